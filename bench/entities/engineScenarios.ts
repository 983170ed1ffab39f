import { createClient, createWorker, entity, orchestration, silentLogger, type Worker } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import type { Durability } from "../config.js";
import { summarize } from "../stats.js";
import { tempDatabase } from "../tempFile.js";

/** One measured phase: how many operations, how long, and the commits it took. */
export interface Phase {
  operations: number;
  seconds: number;
  commits: number;
}

export interface SignalsResult {
  /** The client queueing every signal (group-committed). */
  send: Phase;
  /** The worker applying them, started once they all wait. */
  apply: Phase;
}

export interface RoundTripResult {
  calls: number;
  /** Wall time of the run divided by its calls. */
  meanMs: number;
  /** Per call: for the engine, from one episode to the next as history records it (whole milliseconds). */
  latencyMs: { median: number; p99: number };
  commitsPerCall: number;
}

const counter = entity("benchCounter", {
  initialState: 0,
  operations: {
    add: (n, amount: number, ctx) => ctx.setState(n + amount),
    get: (n) => n,
  },
});

/** A worker (not started) and a client on a fresh store file. */
function engine(durability: Durability, name: string) {
  const db = tempDatabase(`${name}-${durability}`);
  const store = sqliteStore(db.file, { durability });
  const client = createClient({ store, pollIntervalMs: 5 });
  return {
    store,
    client,
    worker: (orchestrations: Parameters<typeof createWorker>[0]["orchestrations"] = []): Worker =>
      createWorker({
        store,
        orchestrations,
        activities: [],
        entities: [counter],
        logger: silentLogger,
        handleSignals: false,
        pollIntervalMs: 5,
      }),
    dispose: async (worker?: Worker) => {
      await worker?.stop();
      await store.close();
      db.remove();
    },
  };
}

/** Waits (polling the store) until `check` holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 2));
}

/**
 * Sends `perEntity` signals to each of `entities` entities (all at once: the client's group
 * commit batches them), then starts a worker and times it applying them all.
 */
export async function signalsScenario(
  durability: Durability,
  entities: number,
  perEntity: number,
): Promise<SignalsResult> {
  const e = engine(durability, `signals-${entities}`);
  const keys = Array.from({ length: entities }, (_, i) => `k${i}`);
  const total = entities * perEntity;
  let worker: Worker | undefined;
  try {
    let commits = e.store.commitCount;
    let started = performance.now();
    const sends: Promise<void>[] = [];
    for (let round = 0; round < perEntity; round++) {
      for (const key of keys) sends.push(e.client.signalEntity(counter, key, "add", 1));
    }
    await Promise.all(sends);
    const send: Phase = {
      operations: total,
      seconds: (performance.now() - started) / 1000,
      commits: e.store.commitCount - commits,
    };
    commits = e.store.commitCount;
    started = performance.now();
    worker = e.worker();
    await worker.start();
    const lastKey = keys.at(-1) as string;
    await until(async () => (await e.store.getEntity("benchCounter", lastKey))?.state === perEntity);
    await until(async () => {
      const page = await e.store.listEntities({ limit: 1000, name: "benchCounter" });
      let sum = 0;
      for (const record of page.entities) sum += record.state as number;
      return sum === total && page.entities.length === Math.min(entities, 1000);
    });
    const apply: Phase = {
      operations: total,
      seconds: (performance.now() - started) / 1000,
      commits: e.store.commitCount - commits,
    };
    return { send, apply };
  } finally {
    await e.dispose(worker);
  }
}

/** An orchestration making `calls` sequential `callEntity`s: each waits for the last. */
export async function roundTripScenario(durability: Durability, calls: number): Promise<RoundTripResult> {
  const caller = orchestration("benchCaller", async (ctx, n: number) => {
    let last = 0;
    for (let i = 0; i < n; i++) {
      await ctx.callEntity(counter, "rt", "add", 1);
      last = await ctx.callEntity(counter, "rt", "get");
    }
    return last;
  });
  const e = engine(durability, "round-trip");
  const worker = e.worker([caller]);
  try {
    await worker.start();
    // Warm-up: the first episodes compile and fill caches.
    await e.client.waitForCompletion(await e.client.start(caller, 5));
    const commits = e.store.commitCount;
    const started = performance.now();
    const id = await e.client.start(caller, calls / 2);
    await e.client.waitForCompletion(id);
    const meanMs = (performance.now() - started) / calls;
    const history = await e.client.getHistory(id);
    const episodes = history.filter((event) => event.type === "OrchestratorStarted").map((event) => event.timestamp);
    const gaps = episodes.slice(2).map((t, i) => t - (episodes[i + 1] as number));
    return {
      calls,
      meanMs,
      latencyMs: summarize(gaps),
      commitsPerCall: (e.store.commitCount - commits) / calls,
    };
  } finally {
    await e.dispose(worker);
  }
}
