import { activity, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { gate } from "../helpers/gate.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType, rejectionOf } from "./helpers/events.js";

/** Counts the invocations of named activities; `failing` ones throw until `heal` is called. */
function counters() {
  const runs: Record<string, number> = {};
  let healed = false;
  const counted = (name: string, fn: (input: number) => unknown = (n) => `${name}(${n})`) =>
    activity(name, (input: number) => {
      runs[name] = (runs[name] ?? 0) + 1;
      return fn(input);
    });
  const failing = (name: string) =>
    counted(name, (n) => {
      if (!healed) throw Object.assign(new Error(`${name} is broken`), { code: "BROKEN" });
      return `${name}(${n})`;
    });
  return { runs, counted, failing, heal: () => (healed = true) };
}

describe("rewind", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("re-runs the failed activity, not the completed ones, and completes", async () => {
    env = openEnv();
    const c = counters();
    const first = c.counted("first");
    const flaky = c.failing("flaky");
    const last = c.counted("last");
    const flow = orchestration("chain", async (ctx) => {
      const a = await ctx.callActivity(first, 1);
      const b = await ctx.callActivity(flaky, 2);
      const d = await ctx.callActivity(last, 3);
      return [a, b, d];
    });
    await env.startWorker({ orchestrations: [flow], activities: [first, flaky, last] });
    const id = await env.client.start(flow, undefined);
    const failed = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(failed.runtimeStatus).toBe("Failed");
    expect(failed.failure?.code).toBe("ACTIVITY_FAILED");
    expect(c.runs).toEqual({ first: 1, flaky: 1 });

    c.heal();
    await env.client.rewind(id, "fixed the bug");
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["first(1)", "flaky(2)", "last(3)"]);
    expect(status.failure).toBeUndefined();
    expect(c.runs).toEqual({ first: 1, flaky: 2, last: 1 });
    const history = await env.client.getHistory(id);
    expect(ofType(history, "ExecutionRewound")).toMatchObject([{ reason: "fixed the bug" }]);
    // The failure was cut from history: the kept record is that of a run that succeeded.
    expect(countOf(history, "TaskFailed")).toBe(0);
    expect(countOf(history, "ExecutionFailed")).toBe(0);
  });

  it("of a failed fan-out, re-runs only the failed branch", async () => {
    env = openEnv();
    const c = counters();
    const branch = c.counted("branch");
    const door = gate();
    const broken = activity("broken-branch", async (n: number) => {
      c.runs["broken-branch"] = (c.runs["broken-branch"] ?? 0) + 1;
      // Fails only after every other branch has completed, so that none is in flight.
      await door.wait();
      if (c.runs["broken-branch"] === 1) throw new Error("the first attempt fails");
      return `broken-branch(${n})`;
    });
    const flow = orchestration("fan", async (ctx) =>
      Promise.all([0, 1, 2, 3, 4].map((i) => (i === 2 ? ctx.callActivity(broken, i) : ctx.callActivity(branch, i)))),
    );
    await env.startWorker({ orchestrations: [flow], activities: [branch, broken] });
    const id = await env.client.start(flow, undefined);
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "TaskCompleted") === 4, "4 branches");
    door.open();
    expect((await env.client.waitForCompletion(id, { timeout: 15_000 })).runtimeStatus).toBe("Failed");

    await env.client.rewind(id);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual(["branch(0)", "branch(1)", "broken-branch(2)", "branch(3)", "branch(4)"]);
    expect(c.runs).toEqual({ branch: 4, "broken-branch": 2 });
  });

  it("through a failed sub-orchestration rewinds the child too", async () => {
    env = openEnv();
    const c = counters();
    const prepare = c.counted("prepare");
    const flaky = c.failing("child-step");
    const before = c.counted("before-child");
    const childFlow = orchestration("rewound-child", async (ctx, n: number) => {
      const p = await ctx.callActivity(prepare, n);
      const s = await ctx.callActivity(flaky, n);
      return `${p} ${s}`;
    });
    const parentFlow = orchestration("rewound-parent", async (ctx) => {
      const b = await ctx.callActivity(before, 0);
      const fromChild = await ctx.callSubOrchestration(childFlow, 7);
      return { b, fromChild };
    });
    await env.startWorker({ orchestrations: [parentFlow, childFlow], activities: [prepare, flaky, before] });
    const id = await env.client.start(parentFlow, undefined, { instanceId: "rp" });
    const failed = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(failed.failure?.code).toBe("SUB_ORCHESTRATION_FAILED");
    expect((await env.client.getStatus("rp:2"))?.runtimeStatus).toBe("Failed");

    c.heal();
    await env.client.rewind(id);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ b: "before-child(0)", fromChild: "prepare(7) child-step(7)" });
    expect((await env.client.getStatus("rp:2"))?.runtimeStatus).toBe("Completed");
    expect(ofType(await env.client.getHistory("rp:2"), "ExecutionRewound")).toHaveLength(1);
    // Neither the parent's nor the child's completed steps ran again.
    expect(c.runs).toEqual({ "before-child": 1, prepare: 1, "child-step": 2 });
  });

  it("refuses an instance that has not failed (INVALID_INSTANCE_STATE)", async () => {
    env = openEnv();
    const ok = orchestration("fine", async () => "fine");
    await env.startWorker({ orchestrations: [ok] });
    const id = await env.client.start(ok, undefined);
    await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect((await rejectionOf(env.client.rewind(id))).code).toBe("INVALID_INSTANCE_STATE");
    expect((await rejectionOf(env.client.rewind("missing"))).code).toBe("INSTANCE_NOT_FOUND");
  });
});
