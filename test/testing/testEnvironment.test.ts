// createTestEnvironment: durable timers, event timeouts and retry delays under virtual time.

import { activity, entity, InvalidArgumentError, orchestration, TimeoutError } from "perdure";
import { createTestEnvironment, type TestEnvironment } from "perdure/testing";
import { afterEach, describe, expect, it } from "vitest";

const HOUR = 3_600_000;
const START = Date.UTC(2030, 0, 1);

const escalations: string[] = [];
const escalate = activity("escalate", (request: string) => {
  escalations.push(request);
  return `escalated ${request}`;
});

/** Waits a day for approval, then escalates. */
const approval = orchestration("approval", async (ctx, request: string) => {
  try {
    const by = await ctx.waitForEvent<string>("approved", { timeout: "24h" });
    return `approved by ${by}`;
  } catch {
    return ctx.callActivity(escalate, request);
  }
});

const checks: number[] = [];
const check = activity("check", (n: number, ctx) => {
  checks.push(n);
  return ctx.attempt;
});

/** Checks `times` times, sleeping `every` between checks; returns the virtual times it checked at. */
const monitor = orchestration("monitor", async (ctx, input: { times: number; every: string }) => {
  const at: number[] = [];
  for (let i = 0; i < input.times; i++) {
    await ctx.callActivity(check, i);
    at.push(ctx.now().getTime());
    if (i + 1 < input.times) await ctx.sleep(input.every);
  }
  return at;
});

let env: TestEnvironment | undefined;
afterEach(async () => {
  await env?.dispose();
  env = undefined;
  escalations.length = 0;
  checks.length = 0;
});

describe("createTestEnvironment", () => {
  it("skipTime fires an event timeout only when virtual time reaches it", async () => {
    env = await createTestEnvironment({ orchestrations: [approval], activities: [escalate], startTime: START });
    const id = await env.client.start(approval, "laptop");
    await env.settle();
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Running");

    await env.skipTime("23h");
    expect(env.now().getTime()).toBe(START + 23 * HOUR);
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Running");
    expect(escalations).toEqual([]);

    await env.skipTime("1h");
    const status = await env.client.getStatus(id);
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: "escalated laptop" });
    expect(escalations).toEqual(["laptop"]);
    const fired = (await env.client.getHistory(id)).find((e) => e.type === "TimerFired");
    expect(fired?.timestamp).toBe(START + 24 * HOUR);
  });

  it("an event raised before the timeout wins, and the timer never fires", async () => {
    env = await createTestEnvironment({ orchestrations: [approval], activities: [escalate], startTime: START });
    const id = await env.client.start(approval, "desk");
    await env.skipTime("2h");
    await env.client.raiseEvent(id, "approved", "Grace");
    const status = await env.waitForCompletion<string, string>(id);
    expect(status.output).toBe("approved by Grace");
    expect(env.now().getTime()).toBe(START + 2 * HOUR);
    await env.skipTime("2d");
    expect(escalations).toEqual([]);
  });

  it("waitForCompletion skips from timer to timer: weeks of sleeps in one await", async () => {
    env = await createTestEnvironment({ orchestrations: [monitor], activities: [check], startTime: START });
    const id = await env.client.start(monitor, { times: 4, every: "7d" });
    const status = await env.waitForCompletion<unknown, number[]>(id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual([0, 1, 2, 3].map((week) => START + week * 7 * 24 * HOUR));
    expect(checks).toEqual([0, 1, 2, 3]);
    expect(env.now().getTime()).toBe(START + 21 * 24 * HOUR);
  });

  it("skipTime runs timers that earlier timers created within the skipped span, in order", async () => {
    env = await createTestEnvironment({ orchestrations: [monitor], activities: [check], startTime: START });
    const id = await env.client.start(monitor, { times: 3, every: "1h" });
    await env.skipTime("1h30m");
    expect(checks).toEqual([0, 1]);
    await env.skipTime("30m");
    expect(checks).toEqual([0, 1, 2]);
    expect((await env.client.getStatus(id))?.output).toEqual([START, START + HOUR, START + 2 * HOUR]);
  });

  it("skips retry delays of a failing activity", async () => {
    let calls = 0;
    const flaky = activity("flaky", () => {
      calls += 1;
      if (calls < 3) throw new Error(`gateway down (${calls})`);
      return "paid";
    });
    const pay = orchestration("pay", async (ctx) =>
      ctx.callActivity(flaky, undefined, { retry: { maxAttempts: 5, firstInterval: "1h", backoffCoefficient: 2 } }),
    );
    env = await createTestEnvironment({ orchestrations: [pay], activities: [flaky], startTime: START });
    const id = await env.client.start(pay, undefined);
    expect((await env.waitForCompletion(id)).output).toBe("paid");
    expect(calls).toBe(3);
    // Waited 1 h, then 2 h, before the third attempt.
    expect(env.now().getTime()).toBe(START + 3 * HOUR);
  });

  it("waitForCompletion says when an instance waits on something time cannot bring, or beyond maxSkip", async () => {
    const forever = orchestration("forever", async (ctx) => ctx.waitForEvent("never"));
    env = await createTestEnvironment({
      orchestrations: [forever, monitor],
      activities: [check],
      startTime: START,
    });
    const stuck = await env.client.start(forever, undefined);
    const error = await env.waitForCompletion(stuck).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(/waits on no timer.*raiseEvent/);

    const slow = await env.client.start(monitor, { times: 2, every: "30d" });
    await expect(env.waitForCompletion(slow, { maxSkip: "7d" })).rejects.toThrow(/next timer is at .* beyond maxSkip/);
    expect(env.now().getTime()).toBe(START);
    await expect(env.waitForCompletion("nobody")).rejects.toThrow(/nobody/);
  });

  it("runs entity operations, and signals scheduled for later, on virtual time", async () => {
    const counter = entity("counter", {
      initialState: 0,
      operations: {
        add: (n: number, by: number, ctx) => ctx.setState(n + by),
        get: (n: number) => n,
      },
    });
    const tally = orchestration("tally", async (ctx) => {
      await ctx.callEntity(counter, "visits", "add", 1);
      // Delivered a day from now, by the entity worker.
      ctx.signalEntity(counter, "visits", "add", 10, { at: new Date(ctx.now().getTime() + 24 * HOUR) });
      await ctx.sleep("2d");
      return ctx.callEntity(counter, "visits", "get");
    });
    env = await createTestEnvironment({ orchestrations: [tally], entities: [counter], startTime: START });
    const id = await env.client.start(tally, undefined);
    await env.skipTime("23h");
    expect((await env.client.getEntity(counter, "visits"))?.state).toBe(1);
    await env.skipTime("1h");
    expect((await env.client.getEntity(counter, "visits"))?.state).toBe(11);
    const status = await env.waitForCompletion(id);
    expect(status.output).toBe(11);
    expect(env.now().getTime()).toBe(START + 48 * HOUR);
  });

  it("refuses durations and start times that are not, with typed errors", async () => {
    await expect(createTestEnvironment({ startTime: new Date("nope") })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createTestEnvironment({ settleTimeoutMs: 0 })).rejects.toThrow(/settleTimeoutMs/);
    await expect(createTestEnvironment({ orchestrations: [escalate as never] })).rejects.toThrow(
      /must be made with orchestration\(\)/,
    );
    env = await createTestEnvironment({ startTime: START });
    await expect(env.skipTime("soon")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(env.skipTime(-5)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(env.now().getTime()).toBe(START);
  });
});
