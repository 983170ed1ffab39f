import { activity, EventTimeoutError, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { gate } from "../helpers/gate.js";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType, rejectionOf } from "./helpers/events.js";

describe("external events", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("ctx.waitForEvent receives the data of client.raiseEvent", async () => {
    env = openEnv();
    const approval = orchestration("approval", async (ctx, request: string) => {
      const decision = await ctx.waitForEvent<{ approved: boolean; by: string }>("decision");
      return { request, ...decision };
    });
    await env.startWorker({ orchestrations: [approval] });
    const id = await env.client.start(approval, "buy a boat");
    await waitFor(async () => (await env?.client.getStatus(id))?.runtimeStatus === "Running", "the instance to start");
    await env.client.raiseEvent(id, "decision", { approved: true, by: "ana" });
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ request: "buy a boat", approved: true, by: "ana" });
    expect(ofType(await env.client.getHistory(id), "EventRaised")).toMatchObject([
      { name: "decision", input: { approved: true, by: "ana" } },
    ]);
  });

  it("keeps an event raised before the orchestration waits for it, and delivers it when it does", async () => {
    env = openEnv();
    const door = gate();
    const prepare = activity("prepare", async () => {
      await door.wait();
      return "prepared";
    });
    const late = orchestration("late-waiter", async (ctx) => {
      const prepared = await ctx.callActivity(prepare);
      const data = await ctx.waitForEvent<string>("ready");
      return `${prepared}, then ${data}`;
    });
    await env.startWorker({ orchestrations: [late], activities: [prepare] });
    const id = await env.client.start(late, undefined);
    await waitFor(() => door.arrivals === 1, "the activity to start");
    await env.client.raiseEvent(id, "ready", "the early event");
    // The event reaches the instance while it is still busy with the activity...
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "EventRaised") === 1, "the event");
    expect(countOf(await env.client.getHistory(id), "TaskCompleted")).toBe(0);
    // ...and is handed over when the code gets to waitForEvent.
    door.open();
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("prepared, then the early event");
  });

  it("keeps an event raised to an instance that no worker has started yet", async () => {
    env = openEnv();
    const flow = orchestration("pending-waiter", async (ctx) => ctx.waitForEvent<string>("go"));
    const id = await env.client.start(flow, undefined);
    await env.client.raiseEvent(id, "go", "raised while Pending");
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Pending");
    await env.startWorker({ orchestrations: [flow] });
    expect((await env.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe("raised while Pending");
  });

  it("delivers several events of one name in the order they were raised", async () => {
    env = openEnv();
    const door = gate();
    const hold = activity("hold", () => door.wait().then(() => "held"));
    const collector = orchestration("collector", async (ctx, n: number) => {
      const received: number[] = [];
      // Some arrive while the code is busy (buffered), the rest while it waits.
      await ctx.callActivity(hold);
      for (let i = 0; i < n; i++) received.push(await ctx.waitForEvent<number>("item"));
      return received;
    });
    await env.startWorker({ orchestrations: [collector], activities: [hold] });
    const id = await env.client.start(collector, 6);
    await waitFor(() => door.arrivals === 1, "the activity to start");
    for (const n of [1, 2, 3]) await env.client.raiseEvent(id, "item", n);
    door.open();
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "TaskCompleted") === 1, "hold");
    for (const n of [4, 5, 6]) await env.client.raiseEvent(id, "item", n);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("a wait with a timeout rejects with EventTimeoutError (EVENT_TIMEOUT), which the orchestration catches", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const patient = orchestration("patient", async (ctx) => {
      try {
        return await ctx.waitForEvent("never", { timeout: "2h" });
      } catch (error) {
        const e = error as EventTimeoutError;
        return { caught: e instanceof EventTimeoutError, code: e.code, eventName: e.eventName };
      }
    });
    await env.startWorker({ orchestrations: [patient] });
    const id = await env.client.start(patient, undefined);
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "TimerCreated") === 1, "the timer");
    clock.advance(2 * 3_600_000);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ caught: true, code: "EVENT_TIMEOUT", eventName: "never" });
  });

  it("an event that arrives before the timeout cancels the timeout's timer", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const patient = orchestration("in-time", async (ctx) => ctx.waitForEvent<string>("soon", { timeout: "2h" }));
    await env.startWorker({ orchestrations: [patient] });
    const id = await env.client.start(patient, undefined);
    await waitFor(async () => countOf((await env?.client.getHistory(id)) ?? [], "TimerCreated") === 1, "the timer");
    await env.client.raiseEvent(id, "soon", "in time");
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("in time");
    expect(countOf(await env.client.getHistory(id), "TimerFired")).toBe(0);
  });

  it("raiseEvent refuses an unknown instance, a finished one, and an empty event name", async () => {
    env = openEnv();
    const quick = orchestration("quick", async () => "done");
    const waiting = orchestration("waiting", async (ctx) => ctx.waitForEvent("x"));
    await env.startWorker({ orchestrations: [quick, waiting] });
    const done = await env.client.start(quick, undefined);
    await env.client.waitForCompletion(done, { timeout: 15_000 });
    const active = await env.client.start(waiting, undefined);

    expect((await rejectionOf(env.client.raiseEvent("no-such-instance", "x"))).code).toBe("INSTANCE_NOT_FOUND");
    expect((await rejectionOf(env.client.raiseEvent(done, "x"))).code).toBe("INSTANCE_NOT_ACTIVE");
    expect((await rejectionOf(env.client.raiseEvent(active, ""))).code).toBe("INVALID_ARGUMENT");
    expect((await rejectionOf(env.client.raiseEvent(active, "   "))).code).toBe("INVALID_ARGUMENT");
    // None of the refusals reached the waiting instance; a valid event still does.
    await env.client.raiseEvent(active, "x", "valid");
    expect((await env.client.waitForCompletion(active, { timeout: 15_000 })).output).toBe("valid");
    expect(countOf(await env.client.getHistory(active), "EventRaised")).toBe(1);
  });
});
