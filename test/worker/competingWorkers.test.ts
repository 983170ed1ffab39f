import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activity, createClient, createWorker, orchestration, silentLogger, type Worker } from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

/** Runs per step, by instance: a step that ran twice shows here. */
const runs = new Map<string, number>();
const record = activity("record", async (step: number, ctx) => {
  const key = `${ctx.instanceId}/${step}`;
  runs.set(key, (runs.get(key) ?? 0) + 1);
  return step;
});
const twoSteps = orchestration("twoSteps", async (ctx) => {
  await ctx.callActivity(record, 1);
  return ctx.callActivity(record, 2);
});
/** Waits for an event: its instance stays leased by the worker that runs it. */
const waiter = orchestration("waiter", async (ctx) => ctx.waitForEvent<string>("go"));

let db: TestDatabase;
let schemas = 0;
const stores: PostgresStore[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
  for (const store of stores.splice(0)) await store.close();
  runs.clear();
});
afterAll(async () => {
  await db?.drop();
});

async function newSchema(): Promise<string> {
  schemas++;
  return `competing_${schemas}`;
}

/** A worker with a store object (a connection pool) of its own, as in its own process. */
async function startWorker(schema: string, leaseOnPoll?: "auto" | "always"): Promise<Worker> {
  const store = await postgresStore({ connectionString: db.url, schema });
  stores.push(store);
  const worker = createWorker({
    store,
    orchestrations: [twoSteps, waiter],
    activities: [record],
    logger: silentLogger,
    handleSignals: false,
    pollIntervalMs: 200,
    ...(leaseOnPoll ? { leaseOnPoll } : {}),
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

describe("workers competing for one PostgreSQL store", () => {
  it("workers that lease as they poll never run the same episode twice", async () => {
    const schema = await newSchema();
    const [a, b, c] = [
      await startWorker(schema, "always"),
      await startWorker(schema, "always"),
      await startWorker(schema, "always"),
    ];
    const clientStore = await postgresStore({ connectionString: db.url, schema });
    stores.push(clientStore);
    const client = createClient({ store: clientStore, pollIntervalMs: 200 });
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, i) => client.start(twoSteps, undefined, { instanceId: `w${i}` })),
    );
    for (const id of ids)
      expect((await client.waitForCompletion(id, { timeout: 60_000 })).runtimeStatus).toBe("Completed");

    const stats = [a, b, c].map((w) => w.stats());
    // The fence would refuse a second runner's commit; with leases taken at the poll there is none.
    expect(stats.map((s) => s.episodesRefused)).toEqual([0, 0, 0]);
    // 300 instances × 3 episodes, each committed once, shared out among the workers.
    expect(stats.reduce((sum, s) => sum + s.episodesCommitted, 0)).toBe(900);
    expect(stats.filter((s) => s.episodesCommitted > 0).length).toBeGreaterThan(1);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(600);
  }, 90_000);

  it("a lone worker takes leases in its first commit; one that sees another worker's lease leases as it polls", async () => {
    const schema = await newSchema();
    const first = await startWorker(schema);
    const clientStore = await postgresStore({ connectionString: db.url, schema });
    stores.push(clientStore);
    const client = createClient({ store: clientStore, pollIntervalMs: 200 });
    await client.waitForCompletion(await client.start(twoSteps, undefined), { timeout: 10_000 });
    expect(first.stats().leasingOnPoll).toBe(false);

    // The waiting instance keeps a live lease of the first worker in the store.
    const waiting = await client.start(waiter, undefined);
    while ((await client.getStatus(waiting))?.runtimeStatus !== "Running") await new Promise((r) => setTimeout(r, 20));
    const second = await startWorker(schema);
    expect(second.stats().leasingOnPoll).toBe(true);

    await client.raiseEvent(waiting, "go", "now");
    expect((await client.waitForCompletion(waiting, { timeout: 10_000 })).output).toBe("now");
  }, 30_000);

  it("refuses a leaseOnPoll it does not know", async () => {
    const store = await postgresStore({ connectionString: db.url, schema: await newSchema() });
    stores.push(store);
    expect(() =>
      createWorker({
        store,
        orchestrations: [],
        activities: [],
        leaseOnPoll: "never" as "always",
        handleSignals: false,
      }),
    ).toThrow(/leaseOnPoll must be "auto" or "always"/);
  });
});
