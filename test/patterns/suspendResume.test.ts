import { activity, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { gate } from "../helpers/gate.js";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType, rejectionOf } from "./helpers/events.js";
import { readRows } from "./helpers/probe.js";

describe("suspend and resume", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("a suspended instance advances no further when its activity completes or its timer fires; events wait for resume", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const door = gate();
    const work = activity("work", async () => {
      await door.wait();
      return "worked";
    });
    const flow = orchestration("suspendable", async (ctx) => {
      const worked = await ctx.callActivity(work);
      await ctx.sleep("1h");
      const approval = await ctx.waitForEvent<string>("approval");
      return { worked, approval };
    });
    // A witness with the same timer: once it has completed, the worker has polled after the
    // timer was due, so the suspended instance had every chance to move had it been allowed.
    const witness = orchestration("witness", async (ctx) => {
      await ctx.sleep("1h");
      return "witnessed";
    });
    await env.startWorker({ orchestrations: [flow, witness], activities: [work] });
    const id = await env.client.start(flow, undefined);
    await waitFor(() => door.arrivals === 1, "the activity to start");

    await env.client.suspend(id, "maintenance");
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Suspended");
    // The activity completes while the instance is suspended: its result must wait.
    door.open();
    await waitFor(
      () => readRows((env as PatternEnv).file, id).inbox.some((e) => e.type === "TaskCompleted"),
      "the activity's result to reach the inbox",
    );
    await env.client.raiseEvent(id, "approval", "granted while suspended");
    const witnessId = await env.client.start(witness, undefined);
    await waitFor(
      async () => countOf((await env?.client.getHistory(witnessId)) ?? [], "TimerCreated") === 1,
      "witness",
    );
    clock.advance(2 * 3_600_000);
    expect((await env.client.waitForCompletion(witnessId, { timeout: 15_000 })).output).toBe("witnessed");

    let history = await env.client.getHistory(id);
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Suspended");
    expect(countOf(history, "TaskCompleted")).toBe(0);
    expect(countOf(history, "EventRaised")).toBe(0);
    expect(history.at(-1)).toMatchObject({ type: "ExecutionSuspended", reason: "maintenance" });

    // Resumed: the activity's result is recorded, then the timer (due by now) and the kept event.
    await env.client.resume(id, "back");
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "TimerCreated") === 1, "the timer");
    clock.advance(2 * 3_600_000);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ worked: "worked", approval: "granted while suspended" });
    history = await env.client.getHistory(id);
    expect(ofType(history, "ExecutionSuspended")).toMatchObject([{ reason: "maintenance" }]);
    expect(ofType(history, "ExecutionResumed")).toMatchObject([{ reason: "back" }]);
    const types = history.map((e) => e.type);
    expect(types.indexOf("ExecutionSuspended")).toBeLessThan(types.indexOf("ExecutionResumed"));
    expect(types.indexOf("ExecutionResumed")).toBeLessThan(types.indexOf("TaskCompleted"));
  });

  it("a timer that comes due while the instance is suspended does not fire until resume", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const flow = orchestration("sleepy", async (ctx) => {
      await ctx.sleep("1h");
      return "slept";
    });
    const witness = orchestration("witness", async (ctx) => {
      await ctx.sleep("1h");
      return "witnessed";
    });
    await env.startWorker({ orchestrations: [flow, witness] });
    const id = await env.client.start(flow, undefined);
    const witnessId = await env.client.start(witness, undefined);
    for (const instance of [id, witnessId]) {
      await waitFor(async () => countOf((await env?.client.getHistory(instance)) ?? [], "TimerCreated") === 1, "timer");
    }
    await env.client.suspend(id);
    clock.advance(2 * 3_600_000);
    expect((await env.client.waitForCompletion(witnessId, { timeout: 15_000 })).output).toBe("witnessed");
    expect(countOf(await env.client.getHistory(id), "TimerFired")).toBe(0);
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Suspended");

    await env.client.resume(id);
    expect((await env.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe("slept");
  });

  it("refuses to suspend a suspended instance or resume a running one (INVALID_INSTANCE_STATE)", async () => {
    env = openEnv();
    const flow = orchestration("idle", async (ctx) => ctx.waitForEvent("x"));
    await env.startWorker({ orchestrations: [flow] });
    const id = await env.client.start(flow, undefined);
    expect((await rejectionOf(env.client.resume(id))).code).toBe("INVALID_INSTANCE_STATE");
    await env.client.suspend(id);
    expect((await rejectionOf(env.client.suspend(id))).code).toBe("INVALID_INSTANCE_STATE");
    expect((await rejectionOf(env.client.suspend("nobody"))).code).toBe("INSTANCE_NOT_FOUND");
  });
});
