import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AnyActivity,
  type AnyOrchestration,
  type Client,
  createClient,
  createWorker,
  silentLogger,
  type Worker,
  type WorkerOptions,
} from "perdure";
import { type SqliteStore, sqliteStore } from "perdure/sqlite";

export type WorkerSetup = { orchestrations?: AnyOrchestration[]; activities?: AnyActivity[] } & Partial<
  Omit<WorkerOptions, "store">
>;

/**
 * One SQLite file in a temp folder, the store and client opened on it, and the workers the
 * test starts. Unlike test/helpers/harness.ts it can close everything and open the same file
 * again (`reopen`), as a process restart would.
 */
export interface PatternEnv {
  readonly file: string;
  readonly store: SqliteStore;
  readonly client: Client;
  /** Starts a quiet, fast-polling worker on the current store; `dispose` stops it. */
  startWorker(setup: WorkerSetup): Promise<Worker>;
  /** Stops every worker, closes the store, and opens a new store and client on the same file. */
  reopen(): Promise<void>;
  /** Stops every worker, closes the store and removes the folder. */
  dispose(): Promise<void>;
}

/** Opens a fresh environment; `clock` (if given) drives the client and every worker. */
export function openEnv(options: { clock?: () => number } = {}): PatternEnv {
  const dir = mkdtempSync(join(tmpdir(), "perdure-patterns-"));
  const file = join(dir, "store.db");
  const workers: Worker[] = [];
  const clock = options.clock ? { clock: options.clock } : {};
  let store = sqliteStore(file, { durability: "normal" });
  let client = createClient({ store, pollIntervalMs: 10, ...clock });

  const stopAll = async (): Promise<void> => {
    for (const worker of workers.splice(0).reverse()) await worker.stop();
  };

  return {
    file,
    get store() {
      return store;
    },
    get client() {
      return client;
    },
    async startWorker(setup) {
      const worker = createWorker({
        logger: silentLogger,
        handleSignals: false,
        pollIntervalMs: 10,
        shutdownTimeoutMs: 2_000,
        ...clock,
        ...setup,
        store,
        orchestrations: setup.orchestrations ?? [],
        activities: setup.activities ?? [],
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async reopen() {
      await stopAll();
      await store.close();
      store = sqliteStore(file, { durability: "normal" });
      client = createClient({ store, pollIntervalMs: 10, ...clock });
    },
    async dispose() {
      await stopAll();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
