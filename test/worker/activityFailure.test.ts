import { afterEach, describe, expect, it } from "vitest";
import { ActivityFailedError, activity, orchestration, PerdureError } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

class DeclinedError extends Error {
  override name = "DeclinedError";
  readonly code = "E_DECLINED";
}

/** Named, so that the activity's original stack can be recognised in the recorded failure. */
function throwDeclinedFromTheBank(amount: number): never {
  throw new DeclinedError(`card declined for ${amount}`, { cause: new Error("bank said no") });
}

const pay = activity("pay", (amount: number): string => throwDeclinedFromTheBank(amount));

describe("an activity that throws", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("reaches the orchestration as ActivityFailedError, which it can catch, record and rethrow", async () => {
    h = createHarness();
    const caught: unknown[] = [];
    const checkout = orchestration("checkout", async (ctx, amount: number) => {
      try {
        return await ctx.callActivity(pay, amount);
      } catch (error) {
        caught.push(error);
        const failed = error as ActivityFailedError;
        ctx.setCustomStatus({ stage: "payment failed", code: failed.code, activity: failed.activityName });
        throw error;
      }
    });
    await h.startWorker({ orchestrations: [checkout], activities: [pay] });
    const id = await h.client.start(checkout, 25, { instanceId: "checkout-1" });
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });

    expect(caught).toHaveLength(1);
    const error = caught[0] as ActivityFailedError;
    expect(error).toBeInstanceOf(ActivityFailedError);
    expect(error).toBeInstanceOf(PerdureError);
    expect(error.code).toBe("ACTIVITY_FAILED");
    expect(error.activityName).toBe("pay");
    expect(error.attempts).toBe(1);
    expect(error.instanceId).toBe("checkout-1");
    expect(error.step).toBe(1);
    expect(error.failure.name).toBe("DeclinedError");
    expect(error.failure.message).toBe("card declined for 25");
    expect(error.failure.code).toBe("E_DECLINED");
    expect(error.failure.stack).toContain("throwDeclinedFromTheBank");
    expect(error.failure.cause?.message).toBe("bank said no");
    // `cause` is the activity's own error, rebuilt with its name, code, stack and cause.
    const cause = error.cause as Error & { code?: string };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe("DeclinedError");
    expect(cause.message).toBe("card declined for 25");
    expect(cause.code).toBe("E_DECLINED");
    expect(cause.stack).toBe(error.failure.stack);
    expect((cause.cause as Error).message).toBe("bank said no");

    expect(status.runtimeStatus).toBe("Failed");
    expect(status.customStatus).toEqual({ stage: "payment failed", code: "ACTIVITY_FAILED", activity: "pay" });
    expect(status.output).toBeUndefined();
    expect(status.failure?.name).toBe("ActivityFailedError");
    expect(status.failure?.code).toBe("ACTIVITY_FAILED");
    expect(status.failure?.cause?.name).toBe("DeclinedError");
    expect(status.failure?.cause?.code).toBe("E_DECLINED");
    expect(status.failure?.cause?.stack).toContain("throwDeclinedFromTheBank");
    expect(status.failure?.cause?.cause?.message).toBe("bank said no");

    const history = await h.client.getHistory(id);
    const taskFailed = history.find((e) => e.type === "TaskFailed");
    expect(taskFailed?.type === "TaskFailed" && taskFailed.failure.code).toBe("E_DECLINED");
    const last = history.at(-1);
    expect(last?.type).toBe("ExecutionFailed");
    expect(last?.type === "ExecutionFailed" && last.failure.code).toBe("ACTIVITY_FAILED");
  });

  it("lets an orchestration that catches the failure go on and complete", async () => {
    h = createHarness();
    const refund = activity("refund", (amount: number) => `refunded ${amount}`);
    const checkout = orchestration("checkout", async (ctx, amount: number) => {
      try {
        return await ctx.callActivity(pay, amount);
      } catch (error) {
        if (!(error instanceof ActivityFailedError)) throw error;
        return ctx.callActivity(refund, amount);
      }
    });
    await h.startWorker({ orchestrations: [checkout], activities: [pay, refund] });
    const id = await h.client.start(checkout, 7);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe("refunded 7");
    expect(status.failure).toBeUndefined();
  });

  it("records a thrown non-Error value as the failure message", async () => {
    h = createHarness();
    const throwsString = activity("throwsString", (): string => {
      throw "plain string";
    });
    const flow = orchestration("flow", async (ctx) => ctx.callActivity(throwsString));
    await h.startWorker({ orchestrations: [flow], activities: [throwsString] });
    const id = await h.client.start(flow, undefined);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("ACTIVITY_FAILED");
    expect(status.failure?.cause?.message).toBe("plain string");
  });
});
