import { afterEach, describe, expect, it } from "vitest";
import {
  type ActivityContext,
  type ActivityFailedError,
  activity,
  type InstanceStatus,
  orchestration,
  type RetryPolicy,
} from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { retryDelays, stepTrace } from "../helpers/history.js";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";

class TransientError extends Error {
  override name = "TransientError";
}
class ValidationError extends Error {
  override name = "ValidationError";
  readonly code = "E_VALIDATION";
}

/** An activity that fails its first `failures` attempts per call, and logs every attempt. */
function flaky(
  name: string,
  failures: number,
  make: (input: string) => Error = (i) => new TransientError(`try again ${i}`),
) {
  const attempts: { input: string; attempt: number; key: string }[] = [];
  const definition = activity(name, (input: string, ctx: ActivityContext) => {
    attempts.push({ input, attempt: ctx.attempt, key: ctx.idempotencyKey });
    if (ctx.attempt <= failures) throw make(input);
    return `${input} ok on attempt ${ctx.attempt}`;
  });
  return { definition, attempts };
}

/** An orchestration that calls `target` once with `policy` and returns its result or its failure. */
function caller(target: ReturnType<typeof flaky>["definition"], policy: RetryPolicy) {
  return orchestration("caller", async (ctx, input: string) => {
    try {
      return { result: await ctx.callActivity(target, input, { retry: policy }) };
    } catch (error) {
      const failed = error as ActivityFailedError;
      return { failedWith: failed.code, attempts: failed.attempts, cause: failed.failure.name };
    }
  });
}

describe("retry policies", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  async function run(flow: ReturnType<typeof caller>, input: string, activities: ReturnType<typeof flaky>[]) {
    h ??= createHarness();
    await h.startWorker({ orchestrations: [flow], activities: activities.map((a) => a.definition) });
    const id = await h.client.start(flow, input);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    return { status, history: await h.client.getHistory(id) };
  }

  it("maxAttempts bounds the attempts, with a durable timer between each two", async () => {
    const always = flaky("always", Number.POSITIVE_INFINITY);
    const { status, history } = await run(caller(always.definition, { maxAttempts: 3, firstInterval: 1 }), "x", [
      always,
    ]);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ failedWith: "ACTIVITY_FAILED", attempts: 3, cause: "TransientError" });
    expect(always.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(stepTrace(history, 1)).toEqual([
      "TaskScheduled#1",
      "TaskFailed#1",
      "TimerCreated",
      "TimerFired",
      "TaskScheduled#2",
      "TaskFailed#2",
      "TimerCreated",
      "TimerFired",
      "TaskScheduled#3",
      "TaskFailed#3",
    ]);
  });

  it("succeeds on a later attempt and returns that attempt's result", async () => {
    const twice = flaky("twice", 2);
    const { status, history } = await run(caller(twice.definition, { maxAttempts: 5, firstInterval: 1 }), "y", [twice]);
    expect(status.output).toEqual({ result: "y ok on attempt 3" });
    expect(stepTrace(history, 1).filter((t) => t === "TimerFired")).toHaveLength(2);
  });

  it("waits firstInterval, then multiplies by backoffCoefficient, capped at maxInterval", async () => {
    const always = flaky("always", Number.POSITIVE_INFINITY);
    const policy: RetryPolicy = { maxAttempts: 5, firstInterval: "2ms", backoffCoefficient: 3, maxInterval: 10 };
    const { status, history } = await run(caller(always.definition, policy), "z", [always]);
    expect(status.output).toEqual({ failedWith: "ACTIVITY_FAILED", attempts: 5, cause: "TransientError" });
    // 2, 2·3 = 6, 2·9 = 18 → 10, 2·27 = 54 → 10
    expect(retryDelays(history)).toEqual([2, 6, 10, 10]);
    // Each TimerFired belongs to the TimerCreated before it, at the recorded due time.
    const dueTimes = (type: "TimerCreated" | "TimerFired") =>
      history.flatMap((e) => (e.type === type ? [e.fireAt] : []));
    expect(dueTimes("TimerFired")).toEqual(dueTimes("TimerCreated"));
  });

  it("stops retrying when the next attempt would start after totalTimeout", async () => {
    // A manual clock: time moves only when the test moves it, so elapsed time is exact.
    const clock = manualClock();
    h = createHarness({ clock: clock.now });
    const always = flaky("always", Number.POSITIVE_INFINITY);
    const flow = caller(always.definition, {
      maxAttempts: 10,
      firstInterval: 5,
      backoffCoefficient: 2,
      totalTimeout: 20,
    });
    await h.startWorker({ orchestrations: [flow], activities: [always.definition] });
    const id = await h.client.start(flow, "t");
    const harness = h;
    const status = await waitFor<InstanceStatus>(async () => {
      const current = await harness.client.getStatus(id);
      if (current?.runtimeStatus === "Completed") return current;
      const history = await harness.client.getHistory(id);
      const timers = history.filter((e) => e.type === "TimerCreated");
      const last = timers.at(-1);
      if (last?.type === "TimerCreated" && last.fireAt > clock.now()) clock.set(last.fireAt);
      return undefined;
    }, "the retries to end");
    // Attempt 1 fails at 0 ms: wait 5 (5 ≤ 20). Attempt 2 fails at 5: wait 10 (15 ≤ 20).
    // Attempt 3 fails at 15: waiting 20 more would start attempt 4 at 35 > 20, so it gives up.
    expect(status.output).toEqual({ failedWith: "ACTIVITY_FAILED", attempts: 3, cause: "TransientError" });
    expect(retryDelays(await h.client.getHistory(id))).toEqual([5, 10]);
    expect(always.attempts).toHaveLength(3);
  });

  it("isRetryable decides per error: a non-retryable error fails at once", async () => {
    h = createHarness();
    const seen: { name: string; message: string; code: string | undefined; isError: boolean }[] = [];
    const policy: RetryPolicy = {
      maxAttempts: 5,
      firstInterval: 1,
      isRetryable: (error) => {
        seen.push({
          name: error.name,
          message: error.message,
          code: (error as { code?: string }).code,
          isError: error instanceof Error,
        });
        return error.name !== "ValidationError";
      },
    };
    const validate = flaky("validate", Number.POSITIVE_INFINITY, (i) => new ValidationError(`bad ${i}`));
    const fetchIt = flaky("fetchIt", 2);
    const flow = orchestration("twoCalls", async (ctx, input: string) => {
      const fetched = await ctx.callActivity(fetchIt.definition, input, { retry: policy });
      try {
        await ctx.callActivity(validate.definition, input, { retry: policy });
        return { fetched, validated: true };
      } catch (error) {
        return { fetched, validated: false, attempts: (error as ActivityFailedError).attempts };
      }
    });
    await h.startWorker({ orchestrations: [flow], activities: [validate.definition, fetchIt.definition] });
    const id = await h.client.start(flow, "v");
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ fetched: "v ok on attempt 3", validated: false, attempts: 1 });
    expect(validate.attempts).toHaveLength(1);
    const history = await h.client.getHistory(id);
    expect(stepTrace(history, 2)).toEqual(["TaskScheduled#1", "TaskFailed#1"]);
    expect(retryDelays(history, 1)).toHaveLength(2);
    // The predicate sees the activity's error rebuilt: its class name, message and code.
    expect(seen).toContainEqual({ name: "ValidationError", message: "bad v", code: "E_VALIDATION", isError: true });
    expect(seen).toContainEqual({ name: "TransientError", message: "try again v", code: undefined, isError: true });
  });

  it("uses the activity definition's retry policy when the call gives none", async () => {
    h = createHarness();
    let attempts = 0;
    const withPolicy = activity(
      "withPolicy",
      (_: undefined, ctx) => {
        attempts = ctx.attempt;
        if (ctx.attempt < 3) throw new TransientError("not yet");
        return ctx.attempt;
      },
      { retry: { maxAttempts: 3, firstInterval: 1 } },
    );
    const flow = orchestration("usesDefault", async (ctx) => ctx.callActivity(withPolicy));
    await h.startWorker({ orchestrations: [flow], activities: [withPolicy] });
    const status = await h.client.waitForCompletion(await h.client.start(flow, undefined), { timeout: 15_000 });
    expect(status.output).toBe(3);
    expect(attempts).toBe(3);
  });

  it("gives ActivityContext.attempt counting up, and an idempotencyKey per call kept across attempts", async () => {
    h = createHarness();
    const twice = flaky("twice", 2);
    const flow = orchestration("keys", async (ctx) => {
      const a = await ctx.callActivity(twice.definition, "first", { retry: { maxAttempts: 3, firstInterval: 1 } });
      const b = await ctx.callActivity(twice.definition, "second", { retry: { maxAttempts: 3, firstInterval: 1 } });
      return [a, b];
    });
    await h.startWorker({ orchestrations: [flow], activities: [twice.definition] });
    const one = await h.client.start(flow, undefined, { instanceId: "keys-1" });
    await h.client.waitForCompletion(one, { timeout: 15_000 });
    const two = await h.client.start(flow, undefined, { instanceId: "keys-2" });
    await h.client.waitForCompletion(two, { timeout: 15_000 });

    const of = (input: string, instance: number) =>
      twice.attempts.filter((a) => a.input === input).slice(instance * 3, instance * 3 + 3);
    for (const instance of [0, 1]) {
      for (const input of ["first", "second"]) {
        const calls = of(input, instance);
        expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
        expect(new Set(calls.map((c) => c.key)).size).toBe(1);
      }
    }
    const keys = new Set(twice.attempts.map((a) => a.key));
    // Two calls in each of two instances: four keys.
    expect(keys.size).toBe(4);
  });
});
