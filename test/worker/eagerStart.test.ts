import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  activity,
  createClient,
  createWorker,
  InstanceAlreadyExistsError,
  orchestration,
  silentLogger,
  type Worker,
} from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";

const double = activity("double", async (n: number) => n * 2);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(double, n);
  const b = await ctx.callActivity(double, a);
  return ctx.callActivity(double, b);
});
const waits = orchestration("waits", async (ctx) => ctx.waitForEvent<string>("go"));
const quick = orchestration("quick", async (_ctx, n: number) => n + 1);
const throws = orchestration("throws", async () => {
  throw new Error("bad input");
});

describe("eager start: a client and a worker on one store object (SQLite)", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("creates the instance in the commit of its first episode: a 3-activity chain costs 4 commits in all", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [chain], activities: [double] });
    const before = h.store.commitCount;
    const id = await h.client.start(chain, 1);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: 8, input: 1 });
    expect(h.store.commitCount - before).toBe(4);
    const history = await h.client.getHistory(id);
    expect(history.slice(0, 3).map((e) => e.type)).toEqual([
      "OrchestratorStarted",
      "ExecutionStarted",
      "TaskScheduled",
    ]);
    expect(history.filter((e) => e.type === "OrchestratorStarted")).toHaveLength(4);
  });

  it("refuses an id that exists, as a stored start would, and leaves that instance alone", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [waits] });
    const id = await h.client.start(waits, undefined, { instanceId: "taken" });
    const history = await h.client.getHistory(id);
    const error = await h.client.start(waits, undefined, { instanceId: "taken" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceAlreadyExistsError);
    expect(error).toMatchObject({ code: "INSTANCE_ALREADY_EXISTS", instanceId: "taken" });
    expect(await h.client.getHistory(id)).toEqual(history);
    await h.client.raiseEvent(id, "go", "on");
    expect((await h.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe("on");
  });

  it("replaces a finished instance when asked, with a new execution", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [quick] });
    await h.client.start(quick, 1, { instanceId: "again" });
    const first = await h.client.waitForCompletion("again", { timeout: 15_000 });
    await h.client.start(quick, 41, { instanceId: "again", replaceIfFinished: true });
    const second = await h.client.waitForCompletion("again", { timeout: 15_000 });
    expect([first.output, second.output]).toEqual([2, 42]);
    const started = (await h.client.getHistory("again")).filter((e) => e.type === "ExecutionStarted");
    expect(started).toHaveLength(1);
  });

  it("records a first episode that fails: the start succeeds, the instance is Failed", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [throws] });
    const id = await h.client.start(throws, undefined);
    const status = await h.client.getStatus(id);
    expect(status?.runtimeStatus).toBe("Failed");
    expect(status?.failure?.message).toBe("bad input");
  });

  it("stores the start for polling when the client says eagerStart: false, or no worker here can run it", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [chain], activities: [double] });
    const polled = createClient({ store: h.store, eagerStart: false, pollIntervalMs: 10 });
    const before = h.store.commitCount;
    const id = await polled.start(chain, 1);
    expect((await polled.waitForCompletion(id, { timeout: 15_000 })).output).toBe(8);
    expect(h.store.commitCount - before).toBe(5);
    // The running worker does not serve the "batch" queue: the start is stored and waits
    // for a worker that does.
    const batched = orchestration("batched", async (_ctx, n: number) => n + 1, { queue: "batch" });
    const waiting = await h.client.start(batched, 1);
    expect((await h.client.getStatus(waiting))?.runtimeStatus).toBe("Pending");
    expect(await h.client.getHistory(waiting)).toEqual([]);
    await h.startWorker({ orchestrations: [batched] });
    expect((await h.client.waitForCompletion(waiting, { timeout: 15_000 })).output).toBe(2);
  });
});

describe("eager start on PostgreSQL", () => {
  let db: TestDatabase;
  let store: PostgresStore | undefined;
  let worker: Worker | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await worker?.stop();
    await store?.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("creates the instance with its first episode, and refuses a taken id", async () => {
    store = await postgresStore({ connectionString: db.url, schema: "eager" });
    const options = { store, orchestrations: [chain, waits], activities: [double] };
    worker = createWorker({ ...options, logger: silentLogger, handleSignals: false });
    await worker.start();
    const client = createClient({ store });
    const before = store.commitCount;
    // One after another, as the benchmark's sequential scenario: 4 commits each, every time
    // (an activity scheduled while a poll's claim held the free slots once cost 2 more).
    for (let i = 0; i < 30; i++) {
      const id = await client.start(chain, i);
      expect((await client.waitForCompletion(id, { timeout: 15_000 })).output).toBe(i * 8);
    }
    expect(store.commitCount - before).toBe(4 * 30);

    await client.start(waits, undefined, { instanceId: "taken" });
    await expect(client.start(chain, 1, { instanceId: "taken" })).rejects.toBeInstanceOf(InstanceAlreadyExistsError);
    expect((await client.getStatus("taken"))?.name).toBe("waits");
    await client.raiseEvent("taken", "go", "on");
    expect((await client.waitForCompletion("taken", { timeout: 15_000 })).output).toBe("on");
  });
});
