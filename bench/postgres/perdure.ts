import { fileURLToPath } from "node:url";
import { type Client, createClient, createWorker, type Store, silentLogger } from "perdure";
import { type PostgresStore, postgresStore } from "perdure/postgres";
import { addOne, chain } from "../workflow.js";
import { drive } from "./drive.js";
import { IpcChild, type Target } from "./target.js";

/** The worker script next to this file: .js when built, .ts under tsx. */
const WORKER_SCRIPT = fileURLToPath(
  new URL(`./workerProcess${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url),
);

async function runWorkflow(client: Client, n: number): Promise<void> {
  const id = await client.start(chain, n);
  const status = await client.waitForCompletion<number, number>(id);
  if (status.runtimeStatus !== "Completed" || status.output !== n + 3) {
    throw new Error(`workflow ${id} ended ${status.runtimeStatus} with ${JSON.stringify(status.output)}`);
  }
}

/**
 * Perdure with `workers` worker processes (forked, default worker options) and the client in
 * this process, on its own schema. With 0 workers it is embedded: worker and client in this
 * process on one store, the way a single-process app runs it.
 */
export async function perdureTarget(url: string, schema: string, workers: number): Promise<Target> {
  const store = await postgresStore({ connectionString: url, schema });
  if (workers === 0) return embedded(store);
  const children: IpcChild[] = [];
  try {
    for (let i = 0; i < workers; i++) children.push(await IpcChild.start(WORKER_SCRIPT, [url, schema]));
  } catch (error) {
    await Promise.all(children.map((c) => c.stop()));
    await store.close();
    throw error;
  }
  const client = createClient({ store });
  return {
    drive: (inFlight, total, firstInput) => drive((n) => runWorkflow(client, n), inFlight, total, firstInput),
    engineStats: async () => {
      const counts = await Promise.all(children.map((c) => c.request({ cmd: "commits" })));
      const sum = (key: string) => counts.reduce((total, c) => total + Number(c[key]), 0);
      return { client: store.commitCount, worker: sum("commits"), stale: sum("stale") };
    },
    childCpuMs: async () => {
      const counts = await Promise.all(children.map((c) => c.request({ cmd: "commits" })));
      return counts.reduce((total, c) => total + Number(c["cpuMs"]), 0);
    },
    close: async () => {
      await Promise.all(children.map((c) => c.stop()));
      await store.close();
    },
  };
}

/** Worker and client on one store in this process; the client's commits counted as they land. */
async function embedded(store: PostgresStore): Promise<Target> {
  let clientCommits = 0;
  let stale = 0;
  // createInstances is one transaction, which commits (and counts) if it created anything.
  const counting = new Proxy<Store>(store, {
    get(target, property) {
      if (property === "commitEpisodes") {
        return async (...args: Parameters<Store["commitEpisodes"]>) => {
          const results = await target.commitEpisodes(...args);
          stale += results.filter((r) => !r.ok && r.reason === "lease-lost").length;
          return results;
        };
      }
      if (property === "createInstances") {
        return async (...args: Parameters<Store["createInstances"]>) => {
          const results = await target.createInstances(...args);
          if (results.some((r) => r === undefined)) clientCommits++;
          return results;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const worker = createWorker({
    store: counting,
    orchestrations: [chain],
    activities: [addOne],
    logger: silentLogger,
    handleSignals: false,
  });
  await worker.start();
  const client = createClient({ store: counting });
  return {
    drive: (inFlight, total, firstInput) => drive((n) => runWorkflow(client, n), inFlight, total, firstInput),
    engineStats: async () => ({ client: clientCommits, worker: store.commitCount - clientCommits, stale }),
    close: async () => {
      await worker.stop();
      await store.close();
    },
  };
}
