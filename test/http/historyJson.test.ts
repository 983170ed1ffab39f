import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEventJson, StatusJson } from "../../src/http/index.js";
import { activity, orchestration } from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";
import { call } from "./call.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

const failedOnce = new Set<number>();
const flaky = activity("flaky", async (n: number) => {
  if (!failedOnce.has(n)) {
    failedOnce.add(n);
    throw new RangeError("first attempt fails");
  }
  return n * 10;
});
const child = orchestration("child", async (_ctx, n: number) => n + 1);
const broken = orchestration("broken", async (_ctx, _n: number) => {
  throw new Error("child broke");
});
const parent = orchestration("parent", async (ctx, n: number) => {
  const a = await ctx.callActivity(flaky, n, { retry: { maxAttempts: 2, firstInterval: "10ms" } });
  await ctx.sleep("10ms");
  const b = await ctx.callSubOrchestration(child, a, { instanceId: `${ctx.instanceId}-child` });
  const c = await ctx.waitForEvent<string>("note");
  if (c === "fail") await ctx.callSubOrchestration(broken, 0, { instanceId: `${ctx.instanceId}-broken` });
  return { a, b, c };
});

/** History of real runs, as `GET /instances/{id}?showHistory=true` turns it into Durable Functions' historyEvents. */
describe("historyEvents", () => {
  let x: HttpHarness;
  let events: HistoryEventJson[];
  const history = async (id: string, query: string) =>
    ((await call(`${x.api}/instances/${id}?showHistory=true${query}`)).json as StatusJson).historyEvents ?? [];

  beforeAll(async () => {
    x = await startHttpHarness({ orchestrations: [parent, child, broken], activities: [flaky] });
    await x.h.client.start(parent, 4, { instanceId: "parent" });
    await x.h.client.start(parent, 5, { instanceId: "parent-2" });
    for (const [id, note] of [
      ["parent", "done"],
      ["parent-2", "fail"],
    ] as const) {
      await waitFor(
        async () => (await x.h.client.getHistory(id)).some((e) => e.type === "SubOrchestrationInstanceCompleted"),
        `${id} to wait for its note`,
      );
      await x.h.client.raiseEvent(id, "note", note);
      await x.h.client.waitForCompletion(id, { timeout: 15_000 });
    }
    events = await history("parent", "&showHistoryOutput=true");
  });
  afterAll(async () => {
    expect(x.errors()).toEqual([]);
    await x.dispose();
  });

  it("folds each call into its outcome and leaves out OrchestratorStarted", () => {
    expect(events.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskFailed",
      "TimerCreated",
      "TimerFired",
      "TaskCompleted",
      "TimerCreated",
      "TimerFired",
      "SubOrchestrationInstanceCompleted",
      "EventRaised",
      "ExecutionCompleted",
    ]);
    expect(events[0]).toMatchObject({ FunctionName: "parent", Input: 4 });
    const [failed, , , completed] = events.slice(1);
    expect(failed).toMatchObject({ FunctionName: "flaky", Input: 4, Reason: "first attempt fails" });
    expect(failed?.FailureDetails).toMatchObject({ ErrorType: "RangeError", ErrorMessage: "first attempt fails" });
    expect(completed).toMatchObject({ FunctionName: "flaky", Input: 4, Result: 40 });
    expect(Date.parse(String(completed?.ScheduledTime))).toBeLessThanOrEqual(Date.parse(String(completed?.Timestamp)));
    expect(events[7]).toMatchObject({ FunctionName: "child", Input: 40, Result: 41, InstanceId: "parent-child" });
    // Perdure's additions: retries of one call share its Step, told apart by Attempt.
    expect(failed).toMatchObject({ Attempt: 1 });
    expect(completed).toMatchObject({ Step: failed?.Step, Attempt: 2 });
    expect(events[2]).toMatchObject({ EventType: "TimerCreated", Step: failed?.Step, Attempt: 2 });
    expect(events[5]?.Attempt).toBeUndefined();
    expect(events[8]).toMatchObject({ Name: "note", Input: "done" });
    expect(events[9]).toMatchObject({ OrchestrationStatus: "Completed", Result: { a: 40, b: 41, c: "done" } });
    for (const event of events) expect(event.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(events.filter((e) => e.EventType === "TimerCreated").every((e) => typeof e.FireAt === "string")).toBe(true);
  });

  it("leaves out results unless showHistoryOutput, and inputs when showInput=false", async () => {
    const plain = await history("parent", "");
    expect(plain.some((e) => "Result" in e)).toBe(false);
    expect(plain[0]).toMatchObject({ Input: 4 });
    const noInput = await history("parent", "&showInput=false&showHistoryOutput=true");
    expect(noInput.some((e) => "Input" in e)).toBe(false);
    expect(noInput.find((e) => e.EventType === "TaskCompleted")).toMatchObject({ Result: 40 });
  });

  it("shows a failure as ExecutionCompleted with OrchestrationStatus Failed and FailureDetails", async () => {
    const failed = await history("parent-2", "&showHistoryOutput=true");
    const subFailed = failed.find((e) => e.EventType === "SubOrchestrationInstanceFailed");
    expect(subFailed).toMatchObject({ FunctionName: "broken", Input: 0 });
    expect(subFailed?.FailureDetails).toMatchObject({ ErrorType: "Error", ErrorMessage: "child broke" });
    const last = failed.at(-1);
    expect(last).toMatchObject({ EventType: "ExecutionCompleted", OrchestrationStatus: "Failed" });
    expect(last?.FailureDetails).toMatchObject({ ErrorType: "SubOrchestrationFailedError" });
    const status = (await call(`${x.api}/instances/parent-2`)).json as StatusJson;
    expect(status.failureDetails?.errorType).toBe("SubOrchestrationFailedError");
    expect(status.failureDetails?.innerFailure).toMatchObject({ errorType: "Error", errorMessage: "child broke" });
  });
});
