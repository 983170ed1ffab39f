import { afterEach, describe, expect, it } from "vitest";
import { type ActivityFailedError, activity, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { retryDelays, stepTrace } from "../helpers/history.js";

describe("names a worker does not know", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("an unknown activity fails its call with cause UNKNOWN_ACTIVITY, without retries", async () => {
    h = createHarness();
    const ghost = activity("ghost", () => "never runs here");
    let failure: { code: string; causeCode: string | undefined; attempts: number } | undefined;
    const flow = orchestration("callsGhost", async (ctx) => {
      try {
        return await ctx.callActivity(ghost, undefined, { retry: { maxAttempts: 5, firstInterval: 1 } });
      } catch (error) {
        const failed = error as ActivityFailedError;
        failure = { code: failed.code, causeCode: failed.failure.code, attempts: failed.attempts };
        throw error;
      }
    });
    // The worker knows the orchestration but not the activity.
    await h.startWorker({ orchestrations: [flow], activities: [] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(failure).toEqual({ code: "ACTIVITY_FAILED", causeCode: "UNKNOWN_ACTIVITY", attempts: 1 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("ACTIVITY_FAILED");
    expect(status.failure?.cause?.code).toBe("UNKNOWN_ACTIVITY");
    expect(status.failure?.cause?.name).toBe("UnknownActivityError");
    const history = await h.client.getHistory(id);
    expect(stepTrace(history, 1)).toEqual(["TaskScheduled#1", "TaskFailed#1"]);
    expect(retryDelays(history)).toEqual([]);
  });

  it("an unknown orchestration fails the instance with UNKNOWN_ORCHESTRATION", async () => {
    h = createHarness();
    const known = orchestration("known", async () => "known");
    const unknown = orchestration("unknown", async () => "never runs here");
    await h.startWorker({ orchestrations: [known], activities: [] });
    const id = await h.client.start(unknown, { some: "input" });
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.name).toBe("unknown");
    expect(status.input).toEqual({ some: "input" });
    expect(status.failure?.code).toBe("UNKNOWN_ORCHESTRATION");
    expect(status.failure?.name).toBe("UnknownOrchestrationError");
    const history = await h.client.getHistory(id);
    expect(history.at(-1)?.type).toBe("ExecutionFailed");
    // The worker still runs what it knows.
    const other = await h.client.start(known, undefined);
    expect((await h.client.waitForCompletion(other, { timeout: 15_000 })).output).toBe("known");
  });
});
