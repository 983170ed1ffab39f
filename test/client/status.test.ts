import { afterEach, describe, expect, it } from "vitest";
import { activity, InstanceNotFoundError, orchestration, TimeoutError } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { manualClock } from "../helpers/manualClock.js";

const add = activity("add", ({ a, b }: { a: number; b: number }) => a + b);
const sum = orchestration("sum", async (ctx, input: { a: number; b: number }) => {
  ctx.setCustomStatus({ stage: "adding" });
  const total = await ctx.callActivity(add, input);
  ctx.setCustomStatus({ stage: "done", total });
  return { total };
});
const fails = orchestration("fails", async (_ctx, reason: string) => {
  throw new RangeError(reason);
});

describe("client.getStatus, getHistory, waitForCompletion", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("reports every field of a Pending, then a Completed instance", async () => {
    const clock = manualClock(Date.UTC(2030, 5, 1, 12));
    h = createHarness({ clock: clock.now });
    const createdAt = clock.now();
    const id = await h.client.start(sum, { a: 2, b: 3 }, { instanceId: "sum-1" });
    const pending = await h.client.getStatus(id);
    expect(pending).toMatchObject({
      name: "sum",
      instanceId: "sum-1",
      runtimeStatus: "Pending",
      input: { a: 2, b: 3 },
      createdAt: new Date(createdAt),
      lastUpdatedAt: new Date(createdAt),
    });
    expect(pending?.output).toBeUndefined();
    expect(pending?.customStatus).toBeUndefined();
    expect(pending?.failure).toBeUndefined();
    expect(pending?.completedAt).toBeUndefined();

    clock.advance(60_000);
    await h.startWorker({ orchestrations: [sum], activities: [add] });
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done).toMatchObject({
      name: "sum",
      instanceId: "sum-1",
      runtimeStatus: "Completed",
      input: { a: 2, b: 3 },
      output: { total: 5 },
      customStatus: { stage: "done", total: 5 },
      createdAt: new Date(createdAt),
      lastUpdatedAt: new Date(createdAt + 60_000),
      completedAt: new Date(createdAt + 60_000),
    });
    expect(done.failure).toBeUndefined();
    expect(await h.client.getStatus(id)).toEqual(done);
  });

  it("reports a Failed instance's failure, and no output", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [fails] });
    const id = await h.client.start(fails, "out of range");
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBeUndefined();
    expect(status.failure).toMatchObject({ name: "RangeError", message: "out of range" });
    expect(status.failure?.stack).toContain("RangeError");
    expect(status.completedAt).toBeInstanceOf(Date);
  });

  it("returns undefined for an unknown id", async () => {
    h = createHarness();
    expect(await h.client.getStatus("nobody")).toBeUndefined();
  });

  it("getHistory of an unknown id fails with INSTANCE_NOT_FOUND", async () => {
    h = createHarness();
    const error = await h.client.getHistory("nobody").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceNotFoundError);
    expect((error as InstanceNotFoundError).code).toBe("INSTANCE_NOT_FOUND");
  });

  it("getHistory of a completed instance tells the whole story in order", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [sum], activities: [add] });
    const id = await h.client.start(sum, { a: 1, b: 1 });
    await h.client.waitForCompletion(id, { timeout: 15_000 });
    const history = await h.client.getHistory(id);
    expect(history.map((e) => e.type)).toEqual([
      "OrchestratorStarted",
      "ExecutionStarted",
      "TaskScheduled",
      "OrchestratorStarted",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    // Incoming events keep the time they were sent (the start: when the client created it);
    // episode markers follow the worker's clock.
    const status = await h.client.getStatus(id);
    expect(history[1]?.timestamp).toBe(status?.createdAt.getTime());
    const episodes = history.filter((e) => e.type === "OrchestratorStarted").map((e) => e.timestamp);
    expect([...episodes].sort((x, y) => x - y)).toEqual(episodes);
    expect(history.at(-1)?.timestamp).toBe(status?.completedAt?.getTime());
  });

  it("waitForCompletion of an unknown id fails with INSTANCE_NOT_FOUND", async () => {
    h = createHarness();
    await expect(h.client.waitForCompletion("nobody", { timeout: 1_000 })).rejects.toMatchObject({
      code: "INSTANCE_NOT_FOUND",
    });
  });

  it("waitForCompletion with a timeout on a stuck instance fails with TIMEOUT", async () => {
    h = createHarness();
    // No worker: the instance stays Pending.
    const id = await h.client.start(sum, { a: 1, b: 2 });
    for (const timeout of [30, "20ms", 0]) {
      const error = await h.client.waitForCompletion(id, { timeout }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).code).toBe("TIMEOUT");
      expect((error as TimeoutError).instanceId).toBe(id);
    }
    expect((await h.client.getStatus(id))?.runtimeStatus).toBe("Pending");
  });

  it("waitForCompletion returns at once for a finished instance, and follows one that finishes later", async () => {
    h = createHarness();
    const id = await h.client.start(sum, { a: 4, b: 4 });
    const waiting = h.client.waitForCompletion(id, { timeout: 15_000 });
    await h.startWorker({ orchestrations: [sum], activities: [add] });
    expect((await waiting).output).toEqual({ total: 8 });
    expect((await h.client.waitForCompletion(id, { timeout: 0 })).output).toEqual({ total: 8 });
  });

  it("many waiters on several instances are each woken by their own instance, and let go of the store after", async () => {
    h = createHarness();
    let subscriptions = 0;
    const subscribe = h.store.subscribe.bind(h.store);
    h.store.subscribe = (listener) => {
      subscriptions++;
      const unsubscribe = subscribe(listener);
      return () => {
        subscriptions--;
        unsubscribe();
      };
    };
    const ids = await Promise.all([1, 2, 3].map((n) => h.client.start(sum, { a: n, b: n })));
    // Three waiters on the first instance, one on each of the others: all of them wait (no worker yet).
    const waits = [ids[0], ids[0], ids[0], ids[1], ids[2]].map((id) => h.client.waitForCompletion(id as string));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(subscriptions).toBe(1);
    await h.startWorker({ orchestrations: [sum], activities: [add] });
    const withWorker = subscriptions;
    const outputs = (await Promise.all(waits)).map((s) => s.output);
    expect(outputs).toEqual([{ total: 2 }, { total: 2 }, { total: 2 }, { total: 4 }, { total: 6 }]);
    // The worker keeps its own; the waiters' one is gone.
    expect(subscriptions).toBe(withWorker - 1);
  });
});
