import { afterEach, describe, expect, it } from "vitest";
import { activity, createClient, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

// The fallback poll is an hour away in these tests: only wake-ups can move the work along.
const NO_FALLBACK_POLL = 3_600_000;

const addOne = activity("addOne", async (n: number) => n + 1);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(addOne, n);
  const b = await ctx.callActivity(addOne, a);
  return ctx.callActivity(addOne, b);
});

describe("when a worker polls", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("a sequential workflow does not keep it polling", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [chain], activities: [addOne], pollIntervalMs: NO_FALLBACK_POLL });
    let polls = 0;
    const findReady = h.store.findReadyInstances.bind(h.store);
    h.store.findReadyInstances = (...args) => {
      polls++;
      return findReady(...args);
    };
    for (let i = 0; i < 30; i++) {
      const id = await h.client.start(chain, i);
      // Wakes the worker for a poll while the instance is busy with its first episode.
      if (i === 0) await h.client.signalEntity("nobody", "anything", "wake");
      expect((await h.client.waitForCompletion(id, { timeout: 10_000 })).output).toBe(i + 3);
    }
    // Eager starts and local results need no poll. A poll made while the instance was busy
    // with its own result used to make it poll again when that episode ended, and so on, for
    // good: about 3 polls for every 4 workflows.
    expect(polls).toBeLessThan(5);
  });

  it("an event raised while the instance runs an episode of its own result is taken at once", async () => {
    h = createHarness();
    const harness = h;
    // The activity raises the event itself, so that the poll it wakes meets the episode of its result.
    const raiseGo = activity("raiseGo", async (instanceId: string) => {
      await harness.client.raiseEvent(instanceId, "go", "went");
      return "raised";
    });
    const waits = orchestration("waits", async (ctx) => {
      const raised = await ctx.callActivity(raiseGo, ctx.instanceId);
      const event = await ctx.waitForEvent<string>("go");
      return `${raised} ${event}`;
    });
    await h.startWorker({ orchestrations: [waits], activities: [raiseGo], pollIntervalMs: NO_FALLBACK_POLL });
    for (let i = 0; i < 10; i++) {
      const id = await h.client.start(waits, undefined);
      expect((await h.client.waitForCompletion(id, { timeout: 10_000 })).output).toBe("raised went");
    }
  });

  it("instances left waiting by maxConcurrentOrchestrations start when a busy one is done", async () => {
    h = createHarness();
    await h.startWorker({
      orchestrations: [chain],
      activities: [addOne],
      maxConcurrentOrchestrations: 1,
      pollIntervalMs: NO_FALLBACK_POLL,
    });
    // Stored starts, so that every instance waits for a poll.
    const client = createClient({ store: h.store, eagerStart: false });
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => client.start(chain, i * 10)));
    const outputs = await Promise.all(
      ids.map(async (id) => (await client.waitForCompletion(id, { timeout: 10_000 })).output),
    );
    expect(outputs).toEqual([3, 13, 23, 33, 43]);
  });
});
