import { afterEach, describe, expect, it } from "vitest";
import { type ActivityFailedError, activity, type NotSerializableError, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { stepTrace } from "../helpers/history.js";

describe("values that JSON cannot carry, inside a run", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("an activity result that is not serialisable fails that call with NOT_SERIALIZABLE, without retries", async () => {
    h = createHarness();
    let runs = 0;
    const when = activity("when", () => {
      runs++;
      return { at: new Date(0) };
    });
    let caught: { code: string; causeCode: string | undefined; attempts: number } | undefined;
    const flow = orchestration("usesWhen", async (ctx) => {
      try {
        return await ctx.callActivity(when, undefined, { retry: { maxAttempts: 4, firstInterval: 1 } });
      } catch (error) {
        const failed = error as ActivityFailedError;
        caught = { code: failed.code, causeCode: failed.failure.code, attempts: failed.attempts };
        throw error;
      }
    });
    await h.startWorker({ orchestrations: [flow], activities: [when] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(caught).toEqual({ code: "ACTIVITY_FAILED", causeCode: "NOT_SERIALIZABLE", attempts: 1 });
    expect(runs).toBe(1);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.cause?.code).toBe("NOT_SERIALIZABLE");
    expect(stepTrace(await h.client.getHistory(id), 1)).toEqual(["TaskScheduled#1", "TaskFailed#1"]);
  });

  it("an orchestration output that is not serialisable fails the instance", async () => {
    h = createHarness();
    const flow = orchestration("returnsMap", async () => new Map([["a", 1]]));
    await h.startWorker({ orchestrations: [flow] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("NOT_SERIALIZABLE");
    expect(status.output).toBeUndefined();
    const history = await h.client.getHistory(id);
    expect(history.at(-1)?.type).toBe("ExecutionFailed");
    expect(history.some((e) => e.type === "ExecutionCompleted")).toBe(false);
  });

  it("an activity input that is not serialisable throws at the call, naming the spot", async () => {
    h = createHarness();
    let runs = 0;
    const take = activity("take", (_input: { when: unknown }) => {
      runs++;
      return "took";
    });
    const flow = orchestration("passesDate", async (ctx) => {
      try {
        await ctx.callActivity(take, { when: new Date(0) });
        return "called";
      } catch (error) {
        return { code: (error as NotSerializableError).code, path: (error as NotSerializableError).path };
      }
    });
    await h.startWorker({ orchestrations: [flow], activities: [take] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toMatchObject({ code: "NOT_SERIALIZABLE" });
    expect((status.output as { path: string }).path).toMatch(/\.when$/);
    expect(runs).toBe(0);
    expect((await h.client.getHistory(id)).some((e) => e.type === "TaskScheduled")).toBe(false);
  });

  it("a custom status that is not serialisable is refused at setCustomStatus; the last good one stays", async () => {
    h = createHarness();
    const flow = orchestration("badStatus", async (ctx) => {
      ctx.setCustomStatus({ stage: "good" });
      try {
        ctx.setCustomStatus({ stage: "bad", at: 1n });
        return "accepted";
      } catch (error) {
        return (error as NotSerializableError).code;
      }
    });
    await h.startWorker({ orchestrations: [flow] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("NOT_SERIALIZABLE");
    expect(status.customStatus).toEqual({ stage: "good" });
  });
});
