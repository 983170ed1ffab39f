import { afterEach, describe, expect, it } from "vitest";
import { activity, orchestration } from "../../src/index.js";
import { gate } from "../helpers/gate.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

const double = activity("double", async (n: number) => n * 2);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(double, n);
  const b = await ctx.callActivity(double, a);
  return ctx.callActivity(double, b);
});

describe("durable commits per step", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("a 3-activity chain costs 1 client commit and 4 worker commits", async () => {
    h = createHarness();
    const before = h.store.commitCount;
    // Started before the worker runs, so the client's commit is counted on its own.
    const id = await h.client.start(chain, 1);
    expect(h.store.commitCount - before).toBe(1);
    await h.startWorker({ orchestrations: [chain], activities: [double] });
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe(8);
    // Start+schedule 1, result 1+schedule 2, result 2+schedule 3, result 3+complete.
    expect(h.store.commitCount - before).toBe(5);
    const episodes = (await h.client.getHistory(id)).filter((e) => e.type === "OrchestratorStarted");
    expect(episodes).toHaveLength(4);
  });

  it("results of a fan-out that arrive together are recorded by one episode, not one each", async () => {
    h = createHarness();
    const held = gate();
    const wait = activity("wait", async (n: number, ctx) => {
      await held.wait(ctx.signal);
      return n;
    });
    const fanOut = orchestration("fanOut", async (ctx, n: number) => {
      const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(wait, i)));
      return results.reduce((sum, r) => sum + r, 0);
    });
    await h.startWorker({ orchestrations: [fanOut], activities: [wait] });
    const id = await h.client.start(fanOut, 20);
    await waitFor(() => held.arrivals === 20, "all 20 activities running");
    const before = h.store.commitCount;
    held.open();
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe(190);
    // The 20 results reach the runner in one turn of the event loop: one episode (the second
    // of the instance) takes them all, and commits them with the output. (Not exactly 1
    // commit: a lease renewal may land in between on a slow machine.)
    expect(h.store.commitCount - before).toBeLessThan(5);
    const history = await h.client.getHistory(id);
    expect(history.filter((e) => e.type === "OrchestratorStarted")).toHaveLength(2);
    expect(history.filter((e) => e.type === "TaskCompleted")).toHaveLength(20);
  });

  it("50 chains started together share transactions (group commit)", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [chain], activities: [double] });
    const before = h.store.commitCount;
    const client = h.client;
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => client.start(chain, i)));
    const statuses = await Promise.all(
      ids.map((id) => client.waitForCompletion<number, number>(id, { timeout: 30_000 })),
    );
    statuses.forEach((status, i) => {
      expect(status.output).toBe(i * 8);
    });
    const commits = h.store.commitCount - before;
    // One at a time this is 50 × 5 = 250 commits; under 3 per chain needs batching.
    expect(commits).toBeLessThan(150);
    console.info(`[commit count] 50 three-activity chains: ${commits} commits`);
  });
});
