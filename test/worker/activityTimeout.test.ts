// Activity timeouts: an attempt that runs past its definition's `timeout` fails with
// ActivityTimeoutError, its ctx.signal is aborted, the retry policy takes over, and a result
// that comes late is dropped.

import { afterEach, describe, expect, it } from "vitest";
import {
  type ActivityFailedError,
  ActivityTimeoutError,
  activity,
  InvalidArgumentError,
  orchestration,
  PerdureError,
} from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe("activity timeout", () => {
  it("fails an attempt that runs past it, aborts its signal, and retries it", async () => {
    const aborts: { attempt: number; reason: unknown }[] = [];
    const lateResults: string[] = [];
    // Attempt 1 hangs until its signal is aborted, then finishes anyway (too late); attempt 2 is quick.
    const lookup = activity(
      "lookup",
      async (key: string, ctx) => {
        if (ctx.attempt > 1) return `${key} found on attempt ${ctx.attempt}`;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener("abort", () => {
            aborts.push({ attempt: ctx.attempt, reason: ctx.signal.reason });
            resolve();
          }),
        );
        lateResults.push("late");
        return `${key} found late`;
      },
      { timeout: "60ms" },
    );
    const flow = orchestration("lookupFlow", async (ctx, key: string) =>
      ctx.callActivity(lookup, key, { retry: { maxAttempts: 2, firstInterval: 1 } }),
    );
    h = createHarness();
    await h.startWorker({ orchestrations: [flow], activities: [lookup] });
    const id = await h.client.start(flow, "k1");
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });

    expect(status.output).toBe("k1 found on attempt 2");
    expect(aborts).toHaveLength(1);
    expect(aborts[0]?.reason).toBeInstanceOf(ActivityTimeoutError);
    expect(lateResults).toEqual(["late"]); // it did finish, and its result was not recorded
    const history = await h.client.getHistory(id);
    const failed = history.filter((e) => e.type === "TaskFailed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      step: 1,
      attempt: 1,
      failure: { name: "ActivityTimeoutError", code: "ACTIVITY_TIMEOUT", step: 1 },
    });
    expect(history.filter((e) => e.type === "TaskCompleted").map((e) => "result" in e && e.result)).toEqual([
      "k1 found on attempt 2",
    ]);
  });

  it("reaches the orchestration as ActivityFailedError caused by the timeout when retries run out", async () => {
    const hang = activity(
      "hang",
      (_: undefined, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", resolve)),
      {
        timeout: 30,
      },
    );
    const flow = orchestration("hangFlow", async (ctx) => {
      try {
        await ctx.callActivity(hang, undefined, { retry: { maxAttempts: 2, firstInterval: 1 } });
        return "finished";
      } catch (error) {
        const failed = error as ActivityFailedError;
        return {
          code: failed.code,
          attempts: failed.attempts,
          cause: failed.failure.code,
          message: failed.failure.message,
        };
      }
    });
    h = createHarness();
    await h.startWorker({ orchestrations: [flow], activities: [hang] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({
      code: "ACTIVITY_FAILED",
      attempts: 2,
      cause: "ACTIVITY_TIMEOUT",
      message: expect.stringMatching(/^Activity "hang" did not finish within 30 ms \(attempt 2\)/),
    });
  });

  it("leaves an activity that finishes in time alone", async () => {
    let aborted = false;
    const quick = activity(
      "quick",
      async (n: number, ctx) => {
        ctx.signal.addEventListener("abort", () => {
          aborted = true;
        });
        return n * 2;
      },
      { timeout: "5s" },
    );
    const flow = orchestration("quickFlow", async (ctx, n: number) => ctx.callActivity(quick, n));
    h = createHarness();
    await h.startWorker({ orchestrations: [flow], activities: [quick] });
    const id = await h.client.start(flow, 21);
    expect((await h.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe(42);
    expect(aborted).toBe(false);
  });

  it("refuses a timeout that is not a positive duration, naming the activity", () => {
    const fn = (n: number) => n;
    for (const timeout of [0, -1, "soon", Number.NaN]) {
      const error = (() => {
        try {
          activity("bad", fn, { timeout: timeout as never });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toBeInstanceOf(PerdureError);
      expect((error as Error).message).toMatch(/activity "bad"/);
    }
    expect(activity("ok", fn, { timeout: "2m" }).timeoutMs).toBe(120_000);
  });
});
