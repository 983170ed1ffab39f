import { activity, type HistoryEvent, type OrchestrationContext, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { replayed } from "../helpers/executorDriver.js";
import { gate } from "../helpers/gate.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType } from "./helpers/events.js";

const square = activity("square", (n: number) => n * n);

describe("fan-out / fan-in", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("Promise.all and ctx.all over many activity calls give every result, in call order", async () => {
    env = openEnv();
    const viaPromiseAll = orchestration("viaPromiseAll", async (ctx, n: number) => {
      const tasks = Array.from({ length: n }, (_, i) => ctx.callActivity(square, i));
      return Promise.all(tasks);
    });
    const viaCtxAll = orchestration("viaCtxAll", async (ctx, n: number) => {
      const tasks = Array.from({ length: n }, (_, i) => ctx.callActivity(square, i));
      return ctx.all(tasks);
    });
    await env.startWorker({ orchestrations: [viaPromiseAll, viaCtxAll], activities: [square] });
    const a = await env.client.start(viaPromiseAll, 50);
    const b = await env.client.start(viaCtxAll, 50);
    const expected = Array.from({ length: 50 }, (_, i) => i * i);
    for (const id of [a, b]) {
      const status = await env.client.waitForCompletion(id, { timeout: 20_000 });
      expect(status.runtimeStatus).toBe("Completed");
      expect(status.output).toEqual(expected);
      const history = await env.client.getHistory(id);
      expect(countOf(history, "TaskScheduled")).toBe(50);
      expect(countOf(history, "TaskCompleted")).toBe(50);
    }
  });

  it("a fan-out of 1,000 activities completes with the right aggregate and exactly 1,000 scheduled and completed", async () => {
    env = openEnv();
    const sumOfSquares = orchestration("sumOfSquares", async (ctx, n: number) => {
      const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(square, i + 1)));
      return results.reduce((sum, x) => sum + x, 0);
    });
    await env.startWorker({ orchestrations: [sumOfSquares], activities: [square] });
    const id = await env.client.start(sumOfSquares, 1_000);
    const status = await env.client.waitForCompletion(id, { timeout: 25_000 });
    expect(status.runtimeStatus).toBe("Completed");
    // 1² + … + n² = n(n+1)(2n+1)/6
    expect(status.output).toBe((1_000 * 1_001 * 2_001) / 6);
    const history = await env.client.getHistory(id);
    expect(countOf(history, "TaskScheduled")).toBe(1_000);
    expect(countOf(history, "TaskCompleted")).toBe(1_000);
    // Every call was scheduled once, under its own step: no duplicate and no lost branch.
    expect(new Set(ofType(history, "TaskCompleted").map((e) => e.step)).size).toBe(1_000);
  }, 30_000);
});

/**
 * A race (or any) whose first listed branch is held at a gate, so the second wins. The
 * orchestration then takes a branch that depends on the winner and waits for "finish", so
 * the loser's result also lands in history, after the winner's: a replay that re-ran the
 * tasks in array order, instead of history order, would take the other branch.
 */
function contest(kind: "race" | "any") {
  const held = gate();
  const seen: string[] = [];
  const slow = activity(`${kind}-slow`, async (label: string) => {
    await held.wait();
    return label;
  });
  const fast = activity(`${kind}-fast`, (label: string) => label);
  const boom = activity(`${kind}-boom`, (): string => {
    throw new Error("this branch fails");
  });
  const afterSlow = activity(`${kind}-after-slow`, (w: string) => `took the ${w} branch`);
  const afterFast = activity(`${kind}-after-fast`, (w: string) => `took the ${w} branch`);
  const pick = (ctx: OrchestrationContext): Promise<string> => {
    const branches = [ctx.callActivity(slow, "slow"), ctx.callActivity(fast, "fast")];
    // `any` skips failures: a failing branch listed before the winner must not win.
    return kind === "race" ? ctx.race(branches) : ctx.any([ctx.callActivity(boom), ...branches]);
  };
  const flow = orchestration(`contest-${kind}`, async (ctx) => {
    const winner = await pick(ctx);
    seen.push(winner);
    const next = await ctx.callActivity(winner === "slow" ? afterSlow : afterFast, winner);
    await ctx.waitForEvent("finish");
    return { winner, next };
  });
  return { held, seen, flow, activities: [slow, fast, boom, afterSlow, afterFast] };
}

describe.each(["race", "any"] as const)("ctx.%s under replay", (kind) => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("takes the winner history recorded first, in a new worker and in a fresh executor", async () => {
    env = openEnv();
    const c = contest(kind);
    const first = await env.startWorker({ orchestrations: [c.flow], activities: c.activities });
    const id = await env.client.start(c.flow, undefined);
    /** The step of the (first) call to an activity, read from history. */
    const stepOf = (history: HistoryEvent[], suffix: string): number | undefined =>
      ofType(history, "TaskScheduled").find((e) => e.name === `${kind}-${suffix}`)?.step;
    const completed = (history: HistoryEvent[], suffix: string): boolean =>
      ofType(history, "TaskCompleted").some((e) => e.step === stepOf(history, suffix));
    // The branch after the winner has run: the instance now waits for "finish".
    await waitFor(async () => completed(await (env as PatternEnv).client.getHistory(id), "after-fast"), "the winner");
    c.held.open();
    const withLoser = await waitFor(async () => {
      const history = await (env as PatternEnv).client.getHistory(id);
      return completed(history, "slow") && history;
    }, "the losing branch's result to be recorded");
    const completedSteps = ofType(withLoser, "TaskCompleted").map((e) => e.step);
    const fastAt = completedSteps.indexOf(stepOf(withLoser, "fast") as number);
    const slowAt = completedSteps.indexOf(stepOf(withLoser, "slow") as number);
    expect(fastAt).toBeGreaterThanOrEqual(0);
    expect(slowAt).toBeGreaterThan(fastAt);
    // The slow branch was called first: history order, not call order, decides the winner.
    expect(stepOf(withLoser, "slow")).toBeLessThan(stepOf(withLoser, "fast") as number);
    expect(c.seen).toEqual(["fast"]);

    // A new worker replays the whole history, both results included, and goes on.
    await first.stop();
    await env.startWorker({ orchestrations: [c.flow], activities: c.activities });
    await env.client.raiseEvent(id, "finish");
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ winner: "fast", next: "took the fast branch" });
    expect(c.seen).toEqual(["fast", "fast"]);

    // A fresh executor replaying the final history takes the same branch and ends finished.
    const history = await env.client.getHistory(id);
    const executor = await replayed(c.flow as never, history, { instanceId: id });
    expect(executor.isFinished).toBe(true);
    expect(c.seen).toEqual(["fast", "fast", "fast"]);
    const scheduled = ofType(history, "TaskScheduled").map((e) => e.name);
    expect(scheduled).toContain(`${kind}-after-fast`);
    expect(scheduled).not.toContain(`${kind}-after-slow`);
  });
});
