import { afterEach, describe, expect, it } from "vitest";
import { activity, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

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
