import { describe, expect, it } from "vitest";
import { activity, orchestration } from "../../src/index.js";
import { capturingLogger } from "../helpers/capturingLogger.js";
import { drive, replayed } from "../helpers/executorDriver.js";

const step = activity("step", (n: number) => n + 1);
const fakes = { step: (n: unknown) => (n as number) + 1 };

interface Seen {
  now: number[];
  guids: string[];
  randoms: number[];
  replaying: boolean[];
}

/** An orchestration that reports what the context gave it, run after run, into `seen`. */
function observer(seen: Seen[]) {
  return orchestration("observer", async (ctx, n: number) => {
    const run: Seen = { now: [], guids: [], randoms: [], replaying: [] };
    seen.push(run);
    const look = (): void => {
      run.now.push(ctx.now().getTime());
      run.guids.push(ctx.newGuid());
      run.randoms.push(ctx.random());
      run.replaying.push(ctx.isReplaying);
    };
    look();
    const a = await ctx.callActivity(step, n);
    look();
    const b = await ctx.callActivity(step, a);
    look();
    return b;
  });
}

describe("deterministic context", () => {
  it("ctx.now() is the recorded episode time, and the same on replay", async () => {
    const seen: Seen[] = [];
    const definition = observer(seen);
    const run = await drive(definition, { input: 1, activities: fakes, startAt: 1_800_000_000_000 });
    expect(run.episodeTimes).toEqual([1_800_000_000_000, 1_800_000_001_000, 1_800_000_002_000]);
    expect(seen[0]?.now).toEqual(run.episodeTimes);
    const markers = run.history.filter((e) => e.type === "OrchestratorStarted").map((e) => e.timestamp);
    expect(markers).toEqual(run.episodeTimes);

    await replayed(definition, run.history);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.now).toEqual(seen[0]?.now);
  });

  it("ctx.newGuid() and ctx.random() repeat on replay and differ between instances", async () => {
    const seen: Seen[] = [];
    const definition = observer(seen);
    const run = await drive(definition, { instanceId: "a", input: 1, activities: fakes });
    await replayed(definition, run.history, { instanceId: "a" });
    const [original, replay] = seen;
    expect(replay?.guids).toEqual(original?.guids);
    expect(replay?.randoms).toEqual(original?.randoms);

    // Within one run, values are fresh each call.
    expect(new Set(original?.guids).size).toBe(3);
    expect(new Set(original?.randoms).size).toBe(3);
    for (const guid of original?.guids ?? [])
      expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (const r of original?.randoms ?? []) {
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(1);
    }

    await drive(definition, { instanceId: "b", input: 1, activities: fakes });
    const other = seen[2];
    expect(other?.guids.some((g) => original?.guids.includes(g))).toBe(false);
    expect(other?.randoms).not.toEqual(original?.randoms);

    // A new run (execution) under the same id gets new values too.
    await drive(definition, { instanceId: "a", executionId: "execution-2", input: 1, activities: fakes });
    expect(seen[3]?.guids.some((g) => original?.guids.includes(g))).toBe(false);
  });

  it("ctx.isReplaying is true while replaying recorded events and false for new ones", async () => {
    const seen: Seen[] = [];
    const definition = observer(seen);
    const partial = await drive(definition, { input: 1, activities: fakes, episodes: 2 });
    expect(seen[0]?.replaying).toEqual([false, false]);

    const executor = await replayed(definition, partial.history);
    expect(seen[1]?.replaying).toEqual([true, true]);
    const end = await executor.runEpisode([{ type: "TaskCompleted", timestamp: 5, step: 2, attempt: 1, result: 3 }], 5);
    expect(end.outcome).toEqual({ status: "Completed", output: 3 });
    expect(seen[1]?.replaying).toEqual([true, true, false]);
  });

  it("ctx.log writes each line once across a replay", async () => {
    const logger = capturingLogger();
    const logging = orchestration("logging", async (ctx, n: number) => {
      ctx.log.info(`start ${n}`);
      const a = await ctx.callActivity(step, n);
      ctx.log.warn(`after first ${a}`);
      const b = await ctx.callActivity(step, a);
      ctx.log.error(`after second ${b}`);
      return b;
    });
    const partial = await drive(logging, { instanceId: "log-1", input: 1, activities: fakes, episodes: 2, logger });
    expect(logger.lines.map((l) => [l.level, l.message])).toEqual([
      ["info", "[logging log-1] start 1"],
      ["warn", "[logging log-1] after first 2"],
    ]);

    // A worker restart: a fresh executor replays the two episodes, then runs the third.
    const executor = await replayed(logging, partial.history, { instanceId: "log-1", logger });
    expect(logger.lines).toHaveLength(2);
    await executor.runEpisode([{ type: "TaskCompleted", timestamp: 5, step: 2, attempt: 1, result: 3 }], 5);
    expect(logger.messages()).toEqual([
      "[logging log-1] start 1",
      "[logging log-1] after first 2",
      "[logging log-1] after second 3",
    ]);
  });
});
