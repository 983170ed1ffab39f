import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/index.js";
import { activity, orchestration } from "../../src/index.js";
import { drive, replayed } from "../helpers/executorDriver.js";

// The executor never runs activity functions; these count to prove it.
let activityRuns = 0;
const add = activity("add", (n: number) => {
  activityRuns++;
  return n + 1;
});
const label = activity("label", (n: number) => {
  activityRuns++;
  return `n=${n}`;
});

let bodyRuns = 0;
const chain = orchestration("chain", async (ctx, n: number) => {
  bodyRuns++;
  const a = await ctx.callActivity(add, n);
  const [b, c] = await Promise.all([ctx.callActivity(add, a), ctx.callActivity(label, a)]);
  const d = await ctx.callActivity(label, b);
  return { a, b, c, d };
});

const fakes = {
  add: (n: unknown) => (n as number) + 1,
  label: (n: unknown) => `n=${n as number}`,
};

describe("replay engine: recorded history", () => {
  it("records one TaskScheduled per call and resolves a fan-out from results", async () => {
    const run = await drive(chain, { input: 1, activities: fakes });
    expect(run.outcome).toEqual({ status: "Completed", output: { a: 2, b: 3, c: "n=2", d: "n=3" } });
    const scheduled = run.history.filter((e) => e.type === "TaskScheduled");
    expect(scheduled.map((e) => [e.step, e.name])).toEqual([
      [1, "add"],
      [2, "add"],
      [3, "label"],
      [4, "label"],
    ]);
    expect(run.history.at(-1)?.type).toBe("ExecutionCompleted");
    expect(activityRuns).toBe(0);
  });

  it("replays a complete history to the same result without scheduling anything", async () => {
    const run = await drive(chain, { input: 1, activities: fakes });
    bodyRuns = 0;
    const executor = await replayed(chain, run.history);
    expect(bodyRuns).toBe(1);
    expect(executor.isFinished).toBe(true);
    const after = await executor.runEpisode([], Date.UTC(2031, 0, 1));
    expect(after.activities).toEqual([]);
    expect(after.timers).toEqual([]);
    expect(after.outcome).toEqual({ status: "Completed", output: { a: 2, b: 3, c: "n=2", d: "n=3" } });
    expect(activityRuns).toBe(0);
  });

  it("takes results from history, not from the activities", async () => {
    // A hand-built history whose recorded results no activity would compute.
    const t = 1_700_000_000_000;
    const history: HistoryEvent[] = [
      { type: "OrchestratorStarted", timestamp: t },
      { type: "ExecutionStarted", timestamp: t, name: "chain", input: 1, executionId: "e1" },
      { type: "TaskScheduled", timestamp: t, step: 1, name: "add", input: 1, attempt: 1 },
      { type: "OrchestratorStarted", timestamp: t + 1 },
      { type: "TaskCompleted", timestamp: t + 1, step: 1, attempt: 1, result: 100 },
      { type: "TaskScheduled", timestamp: t + 1, step: 2, name: "add", input: 100, attempt: 1 },
      { type: "TaskScheduled", timestamp: t + 1, step: 3, name: "label", input: 100, attempt: 1 },
      { type: "OrchestratorStarted", timestamp: t + 2 },
      { type: "TaskCompleted", timestamp: t + 2, step: 3, attempt: 1, result: "recorded" },
      { type: "TaskCompleted", timestamp: t + 2, step: 2, attempt: 1, result: 200 },
      { type: "TaskScheduled", timestamp: t + 2, step: 4, name: "label", input: 200, attempt: 1 },
    ];
    const executor = await replayed(chain, history);
    expect(executor.isFinished).toBe(false);
    // Step 4 is scheduled in history already: an empty episode must not schedule it again.
    const idle = await executor.runEpisode([], t + 3);
    expect(idle.activities).toEqual([]);
    expect(idle.outcome.status).toBe("Running");
    const last = await executor.runEpisode(
      [{ type: "TaskCompleted", timestamp: t + 4, step: 4, attempt: 1, result: "last" }],
      t + 4,
    );
    expect(last.outcome).toEqual({ status: "Completed", output: { a: 100, b: 200, c: "recorded", d: "last" } });
    expect(activityRuns).toBe(0);
  });

  it("continues a partly recorded history exactly where it stopped", async () => {
    const full = await drive(chain, { input: 5, activities: fakes });
    const partial = await drive(chain, { input: 5, activities: fakes, episodes: 2 });
    expect(partial.outcome.status).toBe("Running");
    // The partial history is a prefix of the full one.
    expect(full.history.slice(0, partial.history.length)).toEqual(partial.history);

    const executor = await replayed(chain, partial.history);
    const pending = full.history
      .slice(partial.history.length)
      .filter((e): e is Extract<HistoryEvent, { type: "TaskCompleted" }> => e.type === "TaskCompleted");
    const next = await executor.runEpisode(pending.slice(0, 2), Date.UTC(2031, 0, 1));
    expect(next.activities.map((a) => [a.step, a.name, a.input])).toEqual([[4, "label", 7]]);
    const end = await executor.runEpisode(pending.slice(2), Date.UTC(2031, 0, 2));
    expect(end.outcome).toEqual(full.outcome);
  });

  it("drops a duplicate result instead of recording it twice", async () => {
    const partial = await drive(chain, { input: 1, activities: fakes, episodes: 1 });
    const executor = await replayed(chain, partial.history);
    const result: HistoryEvent = { type: "TaskCompleted", timestamp: 1, step: 1, attempt: 1, result: 2 };
    const first = await executor.runEpisode([result], 10);
    expect(first.newEvents.filter((e) => e.type === "TaskCompleted")).toHaveLength(1);
    const again = await executor.runEpisode([{ ...result, timestamp: 2 }], 20);
    expect(again.newEvents.filter((e) => e.type === "TaskCompleted")).toHaveLength(0);
    expect(again.activities).toEqual([]);
  });
});
