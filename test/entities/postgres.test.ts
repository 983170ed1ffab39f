import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, createWorker, entity, orchestration, silentLogger, type Worker } from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { waitFor } from "../helpers/waitFor.js";

/**
 * Operations running at this moment, by entity key, over every worker of this process. Each
 * worker has a store (a connection pool) of its own, so they contend for entities through
 * PostgreSQL exactly as worker processes do.
 */
const running = new Map<string, number>();
let overlaps = 0;

/** Every operation awaits in the middle: two runs on one entity at once would overlap here. */
const tally = entity("tally", {
  initialState: { count: 0, ids: [] as string[] },
  operations: {
    async add(state, id: string, ctx) {
      const now = (running.get(ctx.key) ?? 0) + 1;
      running.set(ctx.key, now);
      if (now > 1) overlaps++;
      await new Promise((resolve) => setImmediate(resolve));
      state.count += 1;
      state.ids.push(id);
      running.set(ctx.key, (running.get(ctx.key) ?? 1) - 1);
      return state.count;
    },
  },
});

const caller = orchestration("caller", async (ctx, n: number) => {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) seen.push(await ctx.callEntity(tally, "hot", "add", `${ctx.instanceId}:${i}`));
  return seen;
});

const locker = orchestration("locker", async (ctx) => {
  const lock = await ctx.lockEntities([tally, "a"], [tally, "b"]);
  const a = await ctx.callEntity(tally, "a", "add", `${ctx.instanceId}:a`);
  const b = await ctx.callEntity(tally, "b", "add", `${ctx.instanceId}:b`);
  lock.release();
  return [a, b];
});

let db: TestDatabase;
const stores: PostgresStore[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  await db?.drop();
});

async function cluster(schema: string, size: number) {
  const open = async () => {
    const store = await postgresStore({ connectionString: db.url, schema, poolSize: 4 });
    stores.push(store);
    return store;
  };
  for (let i = 0; i < size; i++) {
    const worker = createWorker({
      store: await open(),
      orchestrations: [caller, locker],
      activities: [],
      entities: [tally],
      logger: silentLogger,
      handleSignals: false,
      pollIntervalMs: 50,
    });
    workers.push(worker);
    await worker.start();
  }
  return createClient({ store: await open(), pollIntervalMs: 50 });
}

describe("entities on PostgreSQL, three workers", () => {
  it("apply every operation on a hot entity once, never two at a time, each sender's in order", async () => {
    overlaps = 0;
    const client = await cluster("entities_hot", 3);
    const signals = Array.from({ length: 600 }, (_, i) => client.signalEntity(tally, "hot", "add", `client:${i}`));
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.start(caller, 5, { instanceId: `c${i}` })),
    );
    await Promise.all(signals);
    for (const id of ids) {
      const done = await client.waitForCompletion<number, number[]>(id, { timeout: 60_000 });
      expect(done.runtimeStatus).toBe("Completed");
      // Each call saw a larger count than the one before it.
      expect([...(done.output as number[])].sort((a, b) => a - b)).toEqual(done.output);
    }
    const state = await waitFor(
      async () => {
        const s = (await client.getEntity(tally, "hot")).state;
        return s && s.count === 700 ? s : undefined;
      },
      "700 operations",
      { timeoutMs: 60_000 },
    );
    expect(new Set(state.ids).size).toBe(700);
    // The client's signals, sent in order, were applied in order.
    const fromClient = state.ids.filter((id) => id.startsWith("client:")).map((id) => Number(id.slice(7)));
    expect(fromClient).toEqual(Array.from({ length: 600 }, (_, i) => i));
    for (const id of ids) {
      const own = state.ids.filter((x) => x.startsWith(`${id}:`));
      expect(own).toEqual(Array.from({ length: 5 }, (_, i) => `${id}:${i}`));
    }
    expect(overlaps).toBe(0);
    // The log's newest entries are the last operations applied, in the order the state saw them,
    // though three workers' batches wrote them.
    const { operations, pending } = await client.getEntityOperations(tally, "hot");
    expect(pending).toBe(0);
    expect(operations.map((o) => JSON.parse(o.inputPreview ?? "null"))).toEqual(state.ids.slice(-20).reverse());
  });

  it("critical sections across workers: each section's two calls see no one else's in between", async () => {
    overlaps = 0;
    const client = await cluster("entities_locks", 3);
    const ids = await Promise.all(
      Array.from({ length: 15 }, (_, i) => client.start(locker, undefined, { instanceId: `l${i}` })),
    );
    const outputs: number[][] = [];
    for (const id of ids)
      outputs.push((await client.waitForCompletion<undefined, number[]>(id, { timeout: 60_000 })).output as number[]);
    // Locked together, a and b advance together: each section saw the same count on both.
    for (const [a, b] of outputs) expect(a).toBe(b);
    expect(outputs.map(([a]) => a).sort((x, y) => (x as number) - (y as number))).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 1),
    );
    expect(overlaps).toBe(0);
  });
});
