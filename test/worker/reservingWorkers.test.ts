import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activity, createClient, createWorker, orchestration, silentLogger, type Worker } from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

const addOne = activity("addOne", async (n: number) => n + 1);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(addOne, n);
  const b = await ctx.callActivity(addOne, a);
  return ctx.callActivity(addOne, b);
});

const WORKFLOWS = 20;

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

let schemas = 0;
/** Stores opened after it share the schema it opened. */
async function openStore(fresh = false): Promise<PostgresStore> {
  if (fresh) schemas++;
  const store = await postgresStore({ connectionString: db.url, schema: `reserving_${schemas}` });
  stores.push(store);
  return store;
}

async function advisoryLocks(): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return (rows[0] as { n: number }).n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("competing PostgreSQL workers reserve what they poll without a write", () => {
  it("one workflow at a time on two idle workers: one first episode, no refused commit, 1 + 4 commits", async () => {
    const workerStores = [await openStore(true), await openStore()];
    for (const store of workerStores) {
      const worker = createWorker({
        store,
        orchestrations: [chain],
        activities: [addOne],
        logger: silentLogger,
        handleSignals: false,
        // Both compete from the start; no lease renewal (a write) within the test's time.
        leaseOnPoll: "always",
        leaseTtlMs: 300_000,
      });
      workers.push(worker);
      await worker.start();
    }
    const clientStore = await openStore();
    const client = createClient({ store: clientStore, pollIntervalMs: 200 });

    // Each start wakes both idle workers (NOTIFY); both poll for it, one gets it.
    for (let i = 0; i < WORKFLOWS; i++) {
      const id = await client.start(chain, i, { instanceId: `seq-${i}` });
      expect((await client.waitForCompletion(id, { timeout: 10_000 })).output).toBe(i + 3);
    }
    const episodes = () => workers.reduce((sum, w) => sum + w.stats().episodesCommitted, 0);
    // The last commit's answer reaches its worker a moment after the client heard of it.
    for (let i = 0; i < 200 && episodes() < WORKFLOWS * 4; i++) await sleep(25);

    const stats = workers.map((w) => w.stats());
    expect(stats.map((s) => s.leasingOnPoll)).toEqual([true, true]);
    expect(stats.map((s) => s.episodesRefused)).toEqual([0, 0]);
    expect(episodes()).toBe(WORKFLOWS * 4);
    // The polls wrote nothing: the workers' transactions are the episodes' commits.
    expect(workerStores.reduce((sum, s) => sum + s.commitCount, 0)).toBe(WORKFLOWS * 4);
    expect(clientStore.commitCount).toBe(WORKFLOWS);
    // No reservation outlives its first commit, with the workers still running.
    for (let i = 0; i < 200 && (await advisoryLocks()) > 0; i++) await sleep(25);
    expect(await advisoryLocks()).toBe(0);
  }, 60_000);

  it("a burst shared by two workers runs every first episode once", async () => {
    const workerStores = [await openStore(true), await openStore()];
    for (const store of workerStores) {
      const worker = createWorker({
        store,
        orchestrations: [chain],
        activities: [addOne],
        logger: silentLogger,
        handleSignals: false,
        leaseOnPoll: "always",
      });
      workers.push(worker);
      await worker.start();
    }
    const client = createClient({ store: await openStore(), pollIntervalMs: 200 });
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.start(chain, i, { instanceId: `burst-${i}` })),
    );
    for (const id of ids)
      expect((await client.waitForCompletion(id, { timeout: 30_000 })).runtimeStatus).toBe("Completed");
    const stats = workers.map((w) => w.stats());
    expect(stats.map((s) => s.episodesRefused)).toEqual([0, 0]);
    expect(stats.filter((s) => s.episodesCommitted > 0)).toHaveLength(2);
    for (let i = 0; i < 200 && (await advisoryLocks()) > 0; i++) await sleep(25);
    expect(await advisoryLocks()).toBe(0);
  }, 60_000);
});
