import { activity, type HistoryEvent, type OrchestrationDefinition, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { gate } from "../helpers/gate.js";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType } from "./helpers/events.js";
import { readRows } from "./helpers/probe.js";

type AnyFlow = OrchestrationDefinition<undefined, unknown>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Waits until the instance has `count` TimerCreated events and returns its history. */
async function timersCreated(env: PatternEnv, id: string, count: number): Promise<HistoryEvent[]> {
  return waitFor(async () => {
    const history = await env.client.getHistory(id);
    return countOf(history, "TimerCreated") >= count && history;
  }, `instance ${id} to create timer ${count}`);
}

describe("durable timers", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("ctx.sleep(ms), ctx.sleep(string) and ctx.sleepUntil(date) fire at their due time", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const flow = orchestration("sleeper", async (ctx) => {
      const start = ctx.now().getTime();
      await ctx.sleep(5_000);
      const afterMs = ctx.now().getTime();
      await ctx.sleep("1h30m");
      const afterString = ctx.now().getTime();
      await ctx.sleepUntil(new Date(start + 3 * DAY));
      return { afterMs: afterMs - start, afterString: afterString - start, afterUntil: ctx.now().getTime() - start };
    });
    await env.startWorker({ orchestrations: [flow] });
    const t0 = clock.now();
    const id = await env.client.start(flow, undefined);

    let history = await timersCreated(env, id, 1);
    expect(ofType(history, "TimerCreated")[0]?.fireAt).toBe(t0 + 5_000);
    clock.advance(5_000);
    history = await timersCreated(env, id, 2);
    expect(ofType(history, "TimerCreated")[1]?.fireAt).toBe(t0 + 5_000 + 1.5 * HOUR);
    clock.advance(1.5 * HOUR);
    history = await timersCreated(env, id, 3);
    expect(ofType(history, "TimerCreated")[2]?.fireAt).toBe(t0 + 3 * DAY);
    clock.set(t0 + 3 * DAY);

    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ afterMs: 5_000, afterString: 5_000 + 1.5 * HOUR, afterUntil: 3 * DAY });
    history = await env.client.getHistory(id);
    expect(ofType(history, "TimerFired").map((e) => e.step)).toEqual([1, 2, 3]);
  });

  it("a timer whose time has passed fires at once, without the clock moving", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const flow = orchestration("late", async (ctx) => {
      await ctx.sleepUntil(new Date(ctx.now().getTime() - DAY));
      await ctx.sleep(0);
      return "done";
    });
    await env.startWorker({ orchestrations: [flow] });
    const id = await env.client.start(flow, undefined);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("done");
    const history = await env.client.getHistory(id);
    expect(countOf(history, "TimerFired")).toBe(2);
    expect(ofType(history, "TimerCreated")[0]?.fireAt).toBe(clock.now() - DAY);
  });

  it("a timer fires after the worker and the store are closed and the file is opened again", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    let bodyRuns = 0;
    const flow = orchestration("restart-sleeper", async (ctx) => {
      bodyRuns++;
      await ctx.sleep("2h");
      return "woke up";
    });
    await env.startWorker({ orchestrations: [flow] });
    const id = await env.client.start(flow, undefined);
    await timersCreated(env, id, 1);

    await env.reopen();
    await env.startWorker({ orchestrations: [flow] });
    clock.advance(2 * HOUR);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe("woke up");
    // The new worker rebuilt the instance by replay: the body ran once per process.
    expect(bodyRuns).toBe(2);
    expect(countOf(await env.client.getHistory(id), "TimerFired")).toBe(1);
  });

  describe("a cancelled timer never fires", () => {
    /** Runs a flow whose timer is cancelled once `held` returns; checks the timer's inbox row and history. */
    async function expectCancelled(build: (held: ReturnType<typeof activity<undefined, string>>) => AnyFlow) {
      const clock = manualClock();
      env = openEnv({ clock: clock.now });
      const door = gate();
      const held = activity("held", async () => {
        await door.wait();
        return "held result";
      });
      const flow = build(held);
      await env.startWorker({ orchestrations: [flow], activities: [held] });
      const id = await env.client.start(flow, undefined);
      const created = await timersCreated(env, id, 1);
      const step = ofType(created, "TimerCreated")[0]?.step;
      const timerRows = (): HistoryEvent[] =>
        readRows((env as PatternEnv).file, id).inbox.filter((e) => e.type === "TimerFired" && e.step === step);
      // Before the cancellation the timer is a row waiting in the inbox.
      expect(timerRows()).toHaveLength(1);

      door.open();
      await waitFor(
        async () => countOf(await (env as PatternEnv).client.getHistory(id), "TaskCompleted") === 1,
        "the activity to complete",
      );
      // The episode that cancelled it deleted its row; the instance is still running.
      expect(timerRows()).toEqual([]);
      expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Running");

      clock.advance(2 * HOUR);
      await env.client.raiseEvent(id, "finish");
      const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
      expect(status.runtimeStatus).toBe("Completed");
      expect(status.output).toBe("held result");
      expect(countOf(await env.client.getHistory(id), "TimerFired")).toBe(0);
    }

    it("when it loses a ctx.race", async () => {
      await expectCancelled((held) =>
        orchestration("race-timer", async (ctx) => {
          const winner = await ctx.race<unknown>([ctx.callActivity(held), ctx.sleep("1h")]);
          await ctx.waitForEvent("finish");
          return winner;
        }),
      );
    });

    it("when the code calls timer.cancel()", async () => {
      await expectCancelled((held) =>
        orchestration("cancel-timer", async (ctx) => {
          const reminder = ctx.sleep("1h");
          const result = await ctx.callActivity(held);
          reminder.cancel();
          await ctx.waitForEvent("finish");
          return result;
        }),
      );
    });
  });

  it("an instance waiting on a long timer is evicted from memory, releases its lease, and completes when the timer fires", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    let bodyRuns = 0;
    const flow = orchestration("long-wait", async (ctx) => {
      bodyRuns++;
      await ctx.sleep("7d");
      return "a week later";
    });
    await env.startWorker({ orchestrations: [flow], evictIdleAfterMs: 100, leaseTtlMs: 300 });
    const id = await env.client.start(flow, undefined);
    await timersCreated(env, id, 1);
    expect(readRows(env.file, id).leaseOwner).not.toBeNull();

    // Idle longer than evictIdleAfterMs by the worker's clock: housekeeping drops it.
    clock.advance(1_000);
    await waitFor(() => env && readRows(env.file, id).leaseOwner === null, "the idle instance to be evicted");
    expect(bodyRuns).toBe(1);

    clock.advance(7 * DAY);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("a week later");
    // Evicted means forgotten: the timer found no executor in memory and replayed the code.
    expect(bodyRuns).toBe(2);
  });
});
