import { afterEach, describe, expect, it } from "vitest";
import { activity, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

describe("activities beyond maxConcurrentActivities", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("wait in the worker that scheduled them, never more than the limit running, without extra transactions", async () => {
    h = createHarness();
    let running = 0;
    let most = 0;
    const slow = activity("slow", async (n: number) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return n;
    });
    const fanOut = orchestration("fanOut", async (ctx, n: number) => {
      const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(slow, i)));
      return results.reduce((sum, r) => sum + r, 0);
    });
    await h.startWorker({ orchestrations: [fanOut], activities: [slow], maxConcurrentActivities: 2 });
    const before = h.store.commitCount;
    const id = await h.client.start(fanOut, 10);
    expect((await h.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe(45);
    expect(most).toBe(2);
    // The start with its 10 activities leased here, then at most one commit per result. Handing
    // the 8 that found no slot to the store would add a claim and a result transaction each.
    expect(h.store.commitCount - before).toBeLessThanOrEqual(11);
    const history = await h.client.getHistory(id);
    expect(history.filter((e) => e.type === "TaskCompleted")).toHaveLength(10);
  });
});
