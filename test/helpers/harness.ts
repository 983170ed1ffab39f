import {
  type AnyActivity,
  type AnyOrchestration,
  type Client,
  createClient,
  createWorker,
  silentLogger,
  type Worker,
  type WorkerOptions,
} from "../../src/index.js";
import type { SqliteStore } from "../../src/store/sqlite/index.js";
import { tempStore } from "./tempStore.js";

export interface Harness {
  store: SqliteStore;
  file: string;
  client: Client;
  /** Creates and starts a worker on the harness's store; it is stopped by `dispose`. */
  startWorker(
    options: { orchestrations?: AnyOrchestration[]; activities?: AnyActivity[] } & Partial<WorkerOptions>,
  ): Promise<Worker>;
  /** Stops every worker, closes the store and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * A temp SQLite store, a client and quiet, fast-polling workers: the common set-up of
 * worker-level tests. `clock` (if given) is used by the client and by every worker.
 */
export function createHarness(options: { clock?: () => number } = {}): Harness {
  const temp = tempStore();
  const workers: Worker[] = [];
  const clientOptions = options.clock ? { store: temp.store, clock: options.clock } : { store: temp.store };
  return {
    store: temp.store,
    file: temp.file,
    client: createClient({ ...clientOptions, pollIntervalMs: 10 }),
    async startWorker(workerOptions) {
      const worker = createWorker({
        logger: silentLogger,
        handleSignals: false,
        pollIntervalMs: 10,
        shutdownTimeoutMs: 2_000,
        ...(options.clock ? { clock: options.clock } : {}),
        ...workerOptions,
        store: workerOptions.store ?? temp.store,
        orchestrations: workerOptions.orchestrations ?? [],
        activities: workerOptions.activities ?? [],
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    async dispose() {
      for (const worker of workers.splice(0).reverse()) await worker.stop();
      await temp.dispose();
    },
  };
}
