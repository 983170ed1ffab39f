import { type Client, createClient, createWorker, type Store, silentLogger, type Worker } from "perdure";
import { type SqliteStore, sqliteStore } from "perdure/sqlite";
import type { Durability } from "./config.js";
import { tempDatabase } from "./tempFile.js";
import { addOne, chain, fanOut } from "./workflow.js";

/** A worker and a client on a fresh SQLite store, with the store's commits split by who made them. */
export interface Engine {
  client: Client;
  worker: Worker;
  store: SqliteStore;
  /** The store's database file. */
  file: string;
  /** Commits made so far: by the client's starts, and by everything else (the worker). */
  commits(): { client: number; worker: number };
  dispose(): Promise<void>;
}

/** Starts an engine on a fresh store file with the given durability. */
export async function startEngine(durability: Durability): Promise<Engine> {
  const db = tempDatabase(durability);
  const store = sqliteStore(db.file, { durability });
  let clientCommits = 0;
  const worker = createWorker({
    store,
    orchestrations: [chain, fanOut],
    activities: [addOne],
    logger: silentLogger,
    handleSignals: false,
  });
  await worker.start();
  countStarts(store, (n) => (clientCommits += n));
  // The client on the worker's own store object, as an embedded application has it: starts
  // are eager (created by the first episode's commit), unless the worker declines one.
  const client = createClient({ store });
  return {
    client,
    worker,
    store,
    file: db.file,
    commits: () => ({ client: clientCommits, worker: store.commitCount - clientCommits }),
    dispose: async () => {
      await worker.stop();
      await store.close();
      db.remove();
    },
  };
}

/**
 * Counts the commits of `createInstances` (starts stored on their own) on the store object
 * itself, so that client and worker still share it. SQLite writes synchronously inside the
 * call, so the commit count read right after the call (before awaiting) holds exactly the
 * commits it made, even with the worker busy.
 */
function countStarts(store: SqliteStore, count: (commits: number) => void): void {
  const createInstances = store.createInstances.bind(store);
  store.createInstances = (...args: Parameters<Store["createInstances"]>) => {
    const before = store.commitCount;
    const result = createInstances(...args);
    count(store.commitCount - before);
    return result;
  };
}

/** Starts one chain workflow and waits for it; throws if it did not produce the expected result. */
export async function runWorkflow(engine: Engine, n: number): Promise<void> {
  const id = await engine.client.start(chain, n);
  const status = await engine.client.waitForCompletion<number, number>(id);
  if (status.runtimeStatus !== "Completed" || status.output !== n + 3) {
    throw new Error(`workflow ${id} ended ${status.runtimeStatus} with ${JSON.stringify(status.output)}`);
  }
}

/** Commits per workflow between two readings of `Engine.commits()`. */
export function commitsPerWorkflow(
  before: { client: number; worker: number },
  after: { client: number; worker: number },
  workflows: number,
): { client: number; worker: number } {
  return { client: (after.client - before.client) / workflows, worker: (after.worker - before.worker) / workflows };
}
