import { afterEach, describe, expect, it } from "vitest";
import {
  activity,
  NonDeterminismError,
  type OrchestrationDefinition,
  orchestration,
  PerdureError,
} from "../../src/index.js";
import { drive, replayed } from "../helpers/executorDriver.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { manualClock } from "../helpers/manualClock.js";
import { PARK_MS, parkActivity, waitUntilParked } from "../helpers/park.js";

const book = activity("book", (n: number) => n);
const reserve = activity("reserve", (n: number) => n);
const charge = activity("charge", (n: number) => n);
const ship = activity("ship", (n: number) => n);
const fakes = {
  book: (n: unknown) => n,
  reserve: (n: unknown) => n,
  charge: (n: unknown) => n,
  ship: (n: unknown) => n,
};

/** Records a history with `v1`, replays it with `v2`, and returns what the replay threw. */
async function divergence(
  v1: OrchestrationDefinition<never, unknown>,
  v2: OrchestrationDefinition<never, unknown>,
): Promise<NonDeterminismError> {
  const run = await drive(v1, { instanceId: "order-1", input: 1, activities: fakes });
  expect(run.outcome.status).toBe("Completed");
  const error = await replayed(v2, run.history, { instanceId: "order-1" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NonDeterminismError);
  const nd = error as NonDeterminismError;
  expect(nd).toBeInstanceOf(PerdureError);
  expect(nd.code).toBe("NON_DETERMINISM");
  expect(nd.instanceId).toBe("order-1");
  return nd;
}

describe("NonDeterminismError on replay", () => {
  it("names the step, the new call and the recorded one when an activity is renamed", async () => {
    const v1 = orchestration("order", async (ctx, n: number) =>
      ctx.callActivity(charge, await ctx.callActivity(book, n)),
    );
    const v2 = orchestration("order", async (ctx, n: number) =>
      ctx.callActivity(charge, await ctx.callActivity(reserve, n)),
    );
    const error = await divergence(v1, v2);
    expect(error.step).toBe(1);
    expect(error.codeDid).toContain('"reserve"');
    expect(error.historyHas).toContain('"book"');
  });

  it("detects a call removed from the middle", async () => {
    const v1 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      await ctx.callActivity(charge, n);
      return ctx.callActivity(ship, n);
    });
    const v2 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      return ctx.callActivity(ship, n);
    });
    const error = await divergence(v1, v2);
    expect(error.step).toBe(2);
    expect(error.codeDid).toContain('"ship"');
    expect(error.historyHas).toContain('"charge"');
  });

  it("detects a call removed from the end: the code made no call where history has one", async () => {
    const v1 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      return ctx.callActivity(charge, n);
    });
    const v2 = orchestration("order", async (ctx, n: number) => ctx.callActivity(book, n));
    const error = await divergence(v1, v2);
    expect(error.step).toBe(2);
    expect(error.codeDid).not.toContain('"');
    expect(error.codeDid).toContain("no durable call");
    expect(error.historyHas).toContain('"charge"');
  });

  it("detects an extra call inserted in the middle", async () => {
    const v1 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      return ctx.callActivity(ship, n);
    });
    const v2 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      await ctx.callActivity(charge, n);
      return ctx.callActivity(ship, n);
    });
    const error = await divergence(v1, v2);
    expect(error.step).toBe(2);
    expect(error.codeDid).toContain('"charge"');
    expect(error.historyHas).toContain('"ship"');
  });

  it("accepts the unchanged code (the control case)", async () => {
    const v1 = orchestration("order", async (ctx, n: number) =>
      ctx.callActivity(charge, await ctx.callActivity(book, n)),
    );
    const run = await drive(v1, { input: 1, activities: fakes });
    const executor = await replayed(v1, run.history);
    expect(executor.isFinished).toBe(true);
  });
});

describe("NonDeterminismError through a worker", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("fails the instance with NON_DETERMINISM when new code replays an old history", async () => {
    const clock = manualClock();
    h = createHarness({ clock: clock.now });
    const park = parkActivity();
    const v1 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(book, n);
      await ctx.callActivity(park);
      return "v1";
    });
    const v2 = orchestration("order", async (ctx, n: number) => {
      await ctx.callActivity(reserve, n);
      await ctx.callActivity(park);
      return "v2";
    });
    const first = await h.startWorker({ orchestrations: [v1], activities: [book, reserve, park] });
    const id = await h.client.start(v1, 7);
    await waitUntilParked(h.client, id);
    await first.stop();

    await h.startWorker({ orchestrations: [v2], activities: [book, reserve, park] });
    clock.advance(PARK_MS + 1);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("NON_DETERMINISM");
    expect(status.failure?.name).toBe("NonDeterminismError");
    const history = await h.client.getHistory(id);
    expect(history.at(-1)?.type).toBe("ExecutionFailed");
    expect(history.some((e) => e.type === "TaskScheduled" && e.name === "reserve")).toBe(false);
  });
});
