import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { activity, createClient, createWorker, orchestration, silentLogger, type Worker } from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { waitFor } from "../helpers/waitFor.js";

const double = activity("double", async (n: number) => n * 2);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(double, n);
  const b = await ctx.callActivity(double, a);
  return ctx.callActivity(double, b);
});
const fanOut = orchestration("fanOut", async (ctx, n: number) => {
  const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(double, i)));
  return results.reduce((sum, x) => sum + x, 0);
});

/** Long enough that only a notification (never a poll) can explain a prompt wake-up. */
const NO_POLLING_MS = 120_000;

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
});
afterAll(async () => {
  await db?.drop();
});

/**
 * A worker and a client on one fresh schema, each with a store object of its own, as in two
 * processes: the client's starts reach the worker, and the worker's completions reach the
 * client, through LISTEN/NOTIFY only, since neither polls within the test's time.
 */
async function engine() {
  schemas++;
  const schema = `engine_${schemas}`;
  const workerStore = await postgresStore({ connectionString: db.url, schema });
  const clientStore = await postgresStore({ connectionString: db.url, schema });
  stores.push(workerStore, clientStore);
  const worker = createWorker({
    store: workerStore,
    orchestrations: [chain, fanOut],
    activities: [double],
    logger: silentLogger,
    handleSignals: false,
    pollIntervalMs: NO_POLLING_MS,
  });
  workers.push(worker);
  await worker.start();
  const client = createClient({ store: clientStore, pollIntervalMs: NO_POLLING_MS });
  return { workerStore, clientStore, client };
}

describe("the engine on PostgreSQL", () => {
  it("runs a 3-activity chain with 1 client commit and 4 worker commits, woken by notifications", async () => {
    const { workerStore, clientStore, client } = await engine();
    const before = { client: clientStore.commitCount, worker: workerStore.commitCount };
    const id = await client.start(chain, 1);
    const status = await client.waitForCompletion(id, { timeout: 20_000 });
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: 8 });
    expect(clientStore.commitCount - before.client).toBe(1);
    // The completion's notification can reach the client (another connection) before the
    // answer to the worker's COMMIT reaches the worker, which counts the commit then.
    await waitFor(() => workerStore.commitCount - before.worker >= 4, "the worker's last commit to be counted");
    expect(workerStore.commitCount - before.worker).toBe(4);
    const episodes = (await client.getHistory(id)).filter((e) => e.type === "OrchestratorStarted");
    expect(episodes).toHaveLength(4);
  });

  it("runs many chains at once in fewer transactions than one per step (group commit)", async () => {
    const { workerStore, clientStore, client } = await engine();
    const before = { client: clientStore.commitCount, worker: workerStore.commitCount };
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => client.start(chain, i)));
    const statuses = await Promise.all(
      ids.map((id) => client.waitForCompletion<number, number>(id, { timeout: 30_000 })),
    );
    statuses.forEach((status, i) => {
      expect(status).toMatchObject({ runtimeStatus: "Completed", output: i * 8 });
    });
    const commits = clientStore.commitCount - before.client + (workerStore.commitCount - before.worker);
    // One at a time this is 50 × 5 = 250 commits.
    expect(commits).toBeLessThan(150);
    console.info(`[postgres commit count] 50 three-activity chains: ${commits} commits`);
  });

  it("runs a fan-out of 200 activities to the right sum", async () => {
    const { client } = await engine();
    const id = await client.start(fanOut, 200);
    const status = await client.waitForCompletion(id, { timeout: 30_000 });
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: 199 * 200 });
    const history = await client.getHistory(id);
    expect(history.filter((e) => e.type === "TaskScheduled")).toHaveLength(200);
    expect(new Set(history.filter((e) => e.type === "TaskCompleted").map((e) => e.step)).size).toBe(200);
  });
});
