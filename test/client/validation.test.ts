import { afterEach, describe, expect, it } from "vitest";
import {
  type AnyActivity,
  type AnyOrchestration,
  activity,
  createClient,
  createWorker,
  InvalidArgumentError,
  orchestration,
  type RetryPolicy,
  type Store,
  silentLogger,
  toMilliseconds,
  type WorkerOptions,
} from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const INVALID = expect.objectContaining({ code: "INVALID_ARGUMENT" });

describe("bad arguments", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  describe("durations", () => {
    it("converts numbers and unit strings to milliseconds", () => {
      expect(toMilliseconds(0)).toBe(0);
      expect(toMilliseconds(250)).toBe(250);
      expect(toMilliseconds("500ms")).toBe(500);
      expect(toMilliseconds("90s")).toBe(90_000);
      expect(toMilliseconds("1h30m")).toBe(5_400_000);
      expect(toMilliseconds("1.5d")).toBe(129_600_000);
      expect(toMilliseconds("2w")).toBe(1_209_600_000);
    });

    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, "", "soon", "5", "-5s", "1 hour", "1h 30m", "5 parsecs", "1y"])(
      "refuses %s with INVALID_ARGUMENT",
      (duration) => {
        expect(() => toMilliseconds(duration)).toThrow(InvalidArgumentError);
        expect(() => toMilliseconds(duration)).toThrow(INVALID);
      },
    );

    it("refuses a bad waitForCompletion timeout", async () => {
      h = createHarness();
      const flow = orchestration("flow", async () => 1);
      const id = await h.client.start(flow, undefined);
      for (const timeout of [-1, "forever", Number.NaN]) {
        await expect(h.client.waitForCompletion(id, { timeout })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      }
    });
  });

  describe("retry policies", () => {
    const bad: [string, RetryPolicy][] = [
      ["maxAttempts 0", { maxAttempts: 0 }],
      ["maxAttempts 1.5", { maxAttempts: 1.5 }],
      ["maxAttempts NaN", { maxAttempts: Number.NaN }],
      ["backoffCoefficient 0.5", { maxAttempts: 3, backoffCoefficient: 0.5 }],
      ["backoffCoefficient Infinity", { maxAttempts: 3, backoffCoefficient: Number.POSITIVE_INFINITY }],
      ["firstInterval -5", { maxAttempts: 3, firstInterval: -5 }],
      ["firstInterval '1 hour'", { maxAttempts: 3, firstInterval: "1 hour" }],
      ["maxInterval 'x'", { maxAttempts: 3, maxInterval: "x" }],
      ["totalTimeout -1", { maxAttempts: 3, totalTimeout: -1 }],
      ["isRetryable not a function", { maxAttempts: 3, isRetryable: "yes" as unknown as () => boolean }],
    ];

    it("refuses each bad policy at the call with INVALID_ARGUMENT, scheduling nothing", async () => {
      h = createHarness();
      let runs = 0;
      const work = activity("work", () => {
        runs++;
        return "ran";
      });
      const flow = orchestration("badPolicies", async (ctx) => {
        const codes: string[] = [];
        for (const [, policy] of bad) {
          try {
            await ctx.callActivity(work, undefined, { retry: policy });
            codes.push("accepted");
          } catch (error) {
            codes.push((error as InvalidArgumentError).code);
          }
        }
        return codes;
      });
      await h.startWorker({ orchestrations: [flow], activities: [work] });
      const id = await h.client.start(flow, undefined);
      const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
      expect(status.output).toEqual(bad.map(() => "INVALID_ARGUMENT"));
      expect(runs).toBe(0);
      expect((await h.client.getHistory(id)).some((e) => e.type === "TaskScheduled")).toBe(false);
    });

    it("refuses a bad retry policy on an activity definition at once", () => {
      expect(() => activity("work", () => "ran", { retry: { maxAttempts: 0 } })).toThrow(InvalidArgumentError);
    });
  });

  describe("definitions, workers and clients", () => {
    const a = activity("a", () => 1);
    const o = orchestration("o", async () => 1);

    function workerWith(options: Partial<WorkerOptions>, store: Store): () => unknown {
      return () =>
        createWorker({
          store,
          orchestrations: [],
          activities: [],
          logger: silentLogger,
          handleSignals: false,
          ...options,
        });
    }

    it("createWorker refuses two definitions with one name", () => {
      h = createHarness();
      const a2 = activity("a", () => 2);
      const o2 = orchestration("o", async () => 2);
      expect(workerWith({ activities: [a, a2] as AnyActivity[] }, h.store)).toThrow(INVALID);
      expect(workerWith({ orchestrations: [o, o2] as AnyOrchestration[] }, h.store)).toThrow(INVALID);
      expect(workerWith({ orchestrations: [o, o] as AnyOrchestration[] }, h.store)).toThrow(INVALID);
      // The same name as an activity and as an orchestration is two different things: fine.
      const sameName = orchestration("a", async () => 1);
      expect(
        workerWith({ activities: [a] as AnyActivity[], orchestrations: [sameName] as AnyOrchestration[] }, h.store),
      ).not.toThrow();
    });

    it("createWorker refuses entries that are not definitions, a missing store and bad numbers", () => {
      h = createHarness();
      expect(workerWith({ activities: [o as unknown as AnyActivity] }, h.store)).toThrow(INVALID);
      expect(workerWith({ orchestrations: [a as unknown as AnyOrchestration] }, h.store)).toThrow(INVALID);
      expect(workerWith({ activities: [(() => 1) as unknown as AnyActivity] }, h.store)).toThrow(INVALID);
      expect(() => createWorker({} as WorkerOptions)).toThrow(INVALID);
      for (const key of [
        "maxConcurrentActivities",
        "leaseTtlMs",
        "pollIntervalMs",
        "evictIdleAfterMs",
        "shutdownTimeoutMs",
      ]) {
        for (const value of [0, -1, Number.NaN]) {
          expect(workerWith({ [key]: value }, h.store)).toThrow(INVALID);
        }
      }
    });

    it("createClient needs a store", () => {
      expect(() => createClient({} as { store: Store })).toThrow(INVALID);
    });

    it("activity() and orchestration() refuse bad names and non-functions", () => {
      expect(() => activity("", () => 1)).toThrow(INVALID);
      expect(() => activity("   ", () => 1)).toThrow(INVALID);
      expect(() => activity("x".repeat(201), () => 1)).toThrow(INVALID);
      expect(() => activity("ok", "not a function" as unknown as () => number)).toThrow(INVALID);
      expect(() => orchestration("", async () => 1)).toThrow(INVALID);
      expect(() => orchestration("ok", null as unknown as () => Promise<number>)).toThrow(INVALID);
    });

    it("client.start needs an orchestration definition; terminate needs a string reason", async () => {
      h = createHarness();
      const before = h.store.commitCount;
      await expect(h.client.start(a as unknown as typeof o, undefined)).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
      const id = await h.client.start(o, undefined);
      await expect(h.client.terminate(id, 42 as unknown as string)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
      expect((await h.client.getStatus(id))?.runtimeStatus).toBe("Pending");
      expect(h.store.commitCount).toBe(before + 1);
    });

    it("ctx.callActivity needs an activity definition", async () => {
      h = createHarness();
      const flow = orchestration("callsNothing", async (ctx) => {
        try {
          await ctx.callActivity("a" as unknown as typeof a);
          return "accepted";
        } catch (error) {
          return (error as InvalidArgumentError).code;
        }
      });
      await h.startWorker({ orchestrations: [flow] });
      const id = await h.client.start(flow, undefined);
      expect((await h.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe("INVALID_ARGUMENT");
    });
  });
});
