import { afterEach, describe, expect, it } from "vitest";
import { activity, orchestration } from "../../src/index.js";
import { capturingLogger } from "../helpers/capturingLogger.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { manualClock } from "../helpers/manualClock.js";
import { PARK_MS, parkActivity, waitUntilParked } from "../helpers/park.js";
import { waitFor } from "../helpers/waitFor.js";

interface Observed {
  replaying: boolean[];
  now: number[];
  guid: string[];
}

/**
 * Two activities around a parked step, observing the context: with a manual clock, the
 * instance sits on its retry timer until the test moves the clock.
 */
function scenario() {
  const runs = { charge: 0, ship: 0, body: 0 };
  const observed: Observed[] = [];
  const charge = activity("charge", (amount: number) => {
    runs.charge++;
    return `charged ${amount}`;
  });
  const ship = activity("ship", (what: string) => {
    runs.ship++;
    return `shipped after ${what}`;
  });
  const park = parkActivity();
  const flow = orchestration("flow", async (ctx, amount: number) => {
    runs.body++;
    const seen: Observed = { replaying: [], now: [], guid: [] };
    observed.push(seen);
    const look = (): void => {
      seen.replaying.push(ctx.isReplaying);
      seen.now.push(ctx.now().getTime());
      seen.guid.push(ctx.newGuid());
    };
    ctx.log.info("begin");
    const charged = await ctx.callActivity(charge, amount);
    look();
    ctx.log.info(`charged: ${charged}`);
    const parked = await ctx.callActivity(park);
    look();
    ctx.log.info(`unparked: ${parked}`);
    const shipped = await ctx.callActivity(ship, charged);
    return { charged, parked, shipped };
  });
  return { runs, observed, charge, ship, park, flow, activities: [charge, ship, park] };
}

describe("replay through a worker", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("a new worker resumes a stopped worker's instance by replay, without re-running completed activities", async () => {
    const clock = manualClock();
    h = createHarness({ clock: clock.now });
    const logger = capturingLogger();
    const s = scenario();
    const first = await h.startWorker({ orchestrations: [s.flow], activities: s.activities, logger });
    const id = await h.client.start(s.flow, 42);
    await waitUntilParked(h.client, id);
    await first.stop();
    expect(s.runs).toEqual({ charge: 1, ship: 0, body: 1 });

    await h.startWorker({ orchestrations: [s.flow], activities: s.activities, logger });
    clock.advance(PARK_MS + 1);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({
      charged: "charged 42",
      parked: "unparked after 2 attempts",
      shipped: "shipped after charged 42",
    });
    // The second worker replayed the code (body ran again) but took `charge` from history.
    expect(s.runs).toEqual({ charge: 1, ship: 1, body: 2 });
    const [original, replay] = s.observed;
    expect(original?.replaying).toEqual([false]);
    expect(replay?.replaying).toEqual([true, false]);
    expect(replay?.now[0]).toBe(original?.now[0]);
    expect(replay?.guid[0]).toBe(original?.guid[0]);
    expect(replay?.now[1]).toBe(clock.now());
    const flowLines = logger.messages().filter((m) => m.startsWith("[flow "));
    expect(flowLines.map((m) => m.replace(/^\[flow [^\]]+\] /, ""))).toEqual([
      "begin",
      "charged: charged 42",
      "unparked: unparked after 2 attempts",
    ]);
  });

  it("an instance evicted from the worker's memory while it waits is replayed and continues", async () => {
    const clock = manualClock();
    h = createHarness({ clock: clock.now });
    const logger = capturingLogger();
    const s = scenario();
    await h.startWorker({
      orchestrations: [s.flow],
      activities: s.activities,
      logger,
      evictIdleAfterMs: 1,
      leaseTtlMs: 150,
    });
    const id = await h.client.start(s.flow, 5);
    await waitUntilParked(h.client, id);
    expect(await h.store.listLeaseOwners()).toHaveLength(1);
    // Idle for longer than evictIdleAfterMs (by the worker's clock): housekeeping drops it.
    clock.advance(10);
    await waitFor(async () => (await h?.store.listLeaseOwners())?.length === 0, "the idle instance to be evicted");
    expect(s.runs.body).toBe(1);

    clock.advance(PARK_MS);
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({
      charged: "charged 5",
      parked: "unparked after 2 attempts",
      shipped: "shipped after charged 5",
    });
    expect(s.runs).toEqual({ charge: 1, ship: 1, body: 2 });
    expect(s.observed[1]?.replaying).toEqual([true, false]);
    expect(logger.messages().filter((m) => m.startsWith("[flow "))).toHaveLength(3);
  });
});
