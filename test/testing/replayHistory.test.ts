// replayHistory: histories recorded by a real worker on SQLite, replayed against new code.

import { activity, type HistoryEvent, InvalidArgumentError, NonDeterminismError, orchestration } from "perdure";
import { replayHistory } from "perdure/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventToJson } from "../../src/cli/output.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

const reserve = activity("reserve", (n: number) => n + 1);
const charge = activity("charge", (n: number) => n * 10);
const ship = activity("ship", (n: number) => `shipped ${n}`);
const audit = activity("audit", (n: number) => n);

/** v1 as it ran: reserve, charge, then wait for "approved", then ship. */
const orderV1 = orchestration("order", async (ctx, n: number) => {
  const reserved = await ctx.callActivity(reserve, n);
  const charged = await ctx.callActivity(charge, reserved);
  ctx.setCustomStatus({ charged, id: ctx.newGuid() });
  await ctx.waitForEvent<boolean>("approved");
  return ctx.callActivity(ship, charged);
});

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.dispose();
});

/** Runs v1 on a worker until it waits for approval (or, with `approve`, to the end); returns its history. */
async function recordOrder(id: string, approve: boolean): Promise<HistoryEvent[]> {
  await h.startWorker({ orchestrations: [orderV1], activities: [reserve, charge, ship] });
  await h.client.start(orderV1, 4, { instanceId: id });
  await waitFor(async () => (await h.client.getStatus(id))?.customStatus !== undefined, `${id} to be charged`);
  if (approve) {
    await h.client.raiseEvent(id, "approved", true);
    expect((await h.client.waitForCompletion(id)).output).toBe("shipped 50");
  }
  return h.client.getHistory(id);
}

describe("replayHistory", () => {
  it("replays a running instance's history with the same code: Running, waiting, no new calls", async () => {
    const history = await recordOrder("order-1", false);
    const result = await replayHistory(orderV1, history, { instanceId: "order-1" });
    expect(result).toEqual({ status: "Running", nextCalls: [] });
  });

  it("replays a finished instance to the same output, and says how history ended it", async () => {
    const history = await recordOrder("order-2", true);
    const result = await replayHistory(orderV1, history, { instanceId: "order-2" });
    expect(result).toEqual({ status: "Completed", output: "shipped 50", recordedEnd: "Completed", nextCalls: [] });
  });

  it("accepts the history as `perdure history ID --json` prints it (ISO times)", async () => {
    const history = await recordOrder("order-3", false);
    const saved = JSON.parse(JSON.stringify(history.map(eventToJson))) as unknown[];
    expect(typeof (saved[0] as { timestamp: unknown }).timestamp).toBe("string");
    const result = await replayHistory(orderV1, saved, { instanceId: "order-3" });
    expect(result.status).toBe("Running");
  });

  it("throws NonDeterminismError naming the step when new code calls another activity there", async () => {
    const history = await recordOrder("order-4", false);
    const v2 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(reserve, n);
      await ctx.callActivity(audit, n); // inserted before charge: step 2 now differs
      return ctx.callActivity(charge, n);
    });
    const error = await replayHistory(v2, history, { instanceId: "order-4" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    const nd = error as NonDeterminismError;
    expect(nd.step).toBe(2);
    expect(nd.instanceId).toBe("order-4");
    expect(nd.codeDid).toContain('"audit"');
    expect(nd.historyHas).toContain('"charge"');
  });

  it("reports the calls new code adds after the recorded history, and refuses them after its end", async () => {
    const history = await recordOrder("order-5", true);
    // The recorded instance ended: new code that goes on after its end diverges.
    const appended = orchestration("order", async (ctx, n: number) => {
      const shipped = await orderV1.fn(ctx, n);
      await ctx.callActivity(audit, n);
      return shipped;
    });
    const error = await replayHistory(appended, history, { instanceId: "order-5" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect((error as NonDeterminismError).message).toMatch(
      /after the recorded end .*"audit".* the execution Completed/,
    );

    // A running instance: a new branch behind ctx.patched is not taken where the instance
    // already passed (it replays as the old code ran), so nothing new is scheduled.
    const running = await recordOrder("order-6", false);
    const patched = orchestration("order", async (ctx, n: number) => {
      const reserved = await ctx.callActivity(reserve, n);
      const charged = await ctx.callActivity(charge, reserved);
      ctx.setCustomStatus({ charged, id: ctx.newGuid() });
      if (ctx.patched("audit-before-approval")) await ctx.callActivity(audit, charged);
      await ctx.waitForEvent<boolean>("approved");
      return ctx.callActivity(ship, charged);
    });
    expect(await replayHistory(patched, running, { instanceId: "order-6" })).toEqual({
      status: "Running",
      nextCalls: [],
    });
    // A call the history does not contradict is what a worker would schedule next.
    const withTimeout = orchestration("order", async (ctx, n: number) => {
      const reserved = await ctx.callActivity(reserve, n);
      const charged = await ctx.callActivity(charge, reserved);
      ctx.setCustomStatus({ charged, id: ctx.newGuid() });
      await ctx.waitForEvent<boolean>("approved", { timeout: "1h" });
      return ctx.callActivity(ship, charged);
    });
    expect(await replayHistory(withTimeout, running, { instanceId: "order-6" })).toEqual({
      status: "Running",
      nextCalls: ["a timer at step 3"],
    });
  });

  it("reports code that now fails on the recorded results", async () => {
    const history = await recordOrder("order-7", false);
    const strict = orchestration("order", async (ctx, n: number) => {
      const reserved = await ctx.callActivity(reserve, n);
      if (reserved > 3) throw new Error(`too many: ${reserved}`);
      return reserved;
    });
    const result = await replayHistory(strict, history, { instanceId: "order-7" }).catch((e: unknown) => e);
    // The history holds charge at step 2, which the new code never reaches: a divergence.
    expect(result).toBeInstanceOf(NonDeterminismError);
    expect((result as NonDeterminismError).step).toBe(2);

    const onlyFirst = history.filter((e) => !("step" in e) || e.step === 1).slice(0, -1);
    const failed = await replayHistory(strict, onlyFirst, { instanceId: "order-7" });
    expect(failed.status).toBe("Failed");
    expect(failed.failure?.message).toBe("too many: 5");
  });

  it("refuses what is not a history, an orchestration or an instance id, with typed errors", async () => {
    const history = await recordOrder("order-8", false);
    await expect(replayHistory(orderV1, "nope" as never, { instanceId: "x" })).rejects.toThrow(
      /must be an array of events/,
    );
    await expect(replayHistory(orderV1, [{ type: "Bogus", timestamp: 1 }], { instanceId: "x" })).rejects.toThrow(
      /history\[0\] is not a history event.*not "Bogus"/,
    );
    const badTime = [{ ...history[0], timestamp: "yesterday" }];
    await expect(replayHistory(orderV1, badTime, { instanceId: "x" })).rejects.toThrow(/timestamp must be epoch/);
    await expect(replayHistory(orderV1, [], { instanceId: "x" })).rejects.toThrow(/no ExecutionStarted/);
    const other = orchestration("invoice", async () => 1);
    await expect(replayHistory(other, history, { instanceId: "order-8" })).rejects.toThrow(
      /history is of orchestration "order", not "invoice"/,
    );
    await expect(replayHistory(reserve as never, history, { instanceId: "order-8" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(replayHistory(orderV1, history, { instanceId: "" })).rejects.toThrow(/must not be empty/);
  });
});
