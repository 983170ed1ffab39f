// Terminating an instance aborts the ctx.signal of its running activities (their results
// would be dropped), and only theirs; AttemptSignal makes its controller only when needed.

import { afterEach, describe, expect, it } from "vitest";
import { ActivityCancelledError, activity, orchestration } from "../../src/index.js";
import { AttemptSignal } from "../../src/worker/activityAttempts.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe("terminating an instance with activities running", () => {
  it("aborts their ctx.signal with ActivityCancelledError, and not other instances'", async () => {
    const started = new Set<string>();
    const reasons = new Map<string, unknown>();
    const long = activity("long", async (key: string, ctx) => {
      started.add(key);
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener("abort", () => resolve());
        // The survivor finishes on its own once the other one was cancelled.
        if (key === "b") void waitFor(() => reasons.has("a"), "a to be cancelled").then(() => resolve());
      });
      if (ctx.signal.aborted) reasons.set(key, ctx.signal.reason);
      return `${key} done`;
    });
    const flow = orchestration("longFlow", async (ctx, key: string) => ctx.callActivity(long, key));
    h = createHarness();
    const worker = await h.startWorker({ orchestrations: [flow], activities: [long] });
    const a = await h.client.start(flow, "a");
    const b = await h.client.start(flow, "b");
    await waitFor(() => started.size === 2, "both activities to start");
    expect(worker.stats()).toMatchObject({ activitiesRunning: 2, instancesInMemory: 2 });

    await h.client.terminate(a, "not needed any more");
    await waitFor(() => reasons.has("a"), "a's signal to be aborted");
    const reason = reasons.get("a");
    expect(reason).toBeInstanceOf(ActivityCancelledError);
    expect(reason).toMatchObject({ code: "ACTIVITY_CANCELLED", instanceId: a });

    expect((await h.client.waitForCompletion(b, { timeout: 15_000 })).output).toBe("b done");
    expect(reasons.has("b")).toBe(false);
    expect((await h.client.getStatus(a))?.runtimeStatus).toBe("Terminated");
    // What the cancelled activity returned after the termination was not recorded.
    expect((await h.client.getHistory(a)).some((e) => e.type === "TaskCompleted")).toBe(false);
    await waitFor(() => worker.stats().activitiesRunning === 0, "the activities' turns to end");
    expect(worker.stats().instancesInMemory).toBe(0);
  });
});

describe("AttemptSignal", () => {
  it("makes no controller until read, and then reports an abort that came before", () => {
    const worker = new AbortController();
    const attempt = new AttemptSignal(worker.signal, "i");
    const reason = new Error("timed out");
    attempt.abort(reason);
    attempt.abort(new Error("second reasons are ignored"));
    expect(attempt.signal.aborted).toBe(true);
    expect(attempt.signal.reason).toBe(reason);
    attempt.dispose();
  });

  it("follows the worker's signal once read, and stops following it when disposed", () => {
    const worker = new AbortController();
    const followed = new AttemptSignal(worker.signal, "i");
    const disposed = new AttemptSignal(worker.signal, "j");
    expect(followed.signal.aborted).toBe(false);
    expect(disposed.signal.aborted).toBe(false);
    disposed.dispose();
    worker.abort(new Error("stopping"));
    expect(followed.signal.aborted).toBe(true);
    expect((followed.signal.reason as Error).message).toBe("stopping");
    expect(disposed.signal.aborted).toBe(false);
    // Read after the worker stopped: aborted at once.
    expect(new AttemptSignal(worker.signal, "k").signal.aborted).toBe(true);
  });
});
