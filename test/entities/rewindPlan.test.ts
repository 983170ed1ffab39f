import { describe, expect, it } from "vitest";
import { planRewind } from "../../src/history/rewind.js";
import type { HistoryEvent, PerdureError } from "../../src/index.js";

const t = 1;
const failure = { name: "ActivityFailedError", message: "broken", code: "ACTIVITY_FAILED", step: 0 };
const a = [{ name: "account", key: "a" }];

/** A history whose activity at step 0 failed in the second episode, and that failed in the third. */
function failingLater(...between: HistoryEvent[]): HistoryEvent[] {
  return [
    { type: "OrchestratorStarted", timestamp: t },
    { type: "ExecutionStarted", timestamp: t, name: "o", input: null, executionId: "e" },
    { type: "TaskScheduled", timestamp: t, step: 0, name: "flaky", input: null, attempt: 1 },
    { type: "OrchestratorStarted", timestamp: t },
    { type: "TaskFailed", timestamp: t, step: 0, attempt: 1, failure },
    { type: "EventRaised", timestamp: t, name: "go", input: null },
    ...between,
    { type: "OrchestratorStarted", timestamp: t },
    { type: "ExecutionFailed", timestamp: t, failure },
  ];
}

describe("planRewind with entities", () => {
  it("refuses when an entity call that did not fail was sent after the cut", () => {
    const call: HistoryEvent = {
      type: "EntityCallScheduled",
      timestamp: t,
      step: 1,
      name: "account",
      key: "a",
      operation: "add",
      input: 1,
    };
    const done: HistoryEvent = { type: "EntityOperationCompleted", timestamp: t, step: 1, result: 2 };
    let error: PerdureError | undefined;
    try {
      planRewind(failingLater(call, { type: "OrchestratorStarted", timestamp: t }, done), "i");
    } catch (e) {
      error = e as PerdureError;
    }
    expect(error).toMatchObject({ code: "REWIND_NOT_POSSIBLE", instanceId: "i", step: 1 });

    // A call whose operation failed changed nothing: replay may send it again.
    const failed: HistoryEvent = { type: "EntityOperationFailed", timestamp: t, step: 1, failure };
    const plan = planRewind(failingLater(call, { type: "OrchestratorStarted", timestamp: t }, failed), "i");
    expect(plan.keep).toBe(4);
    expect(plan.redeliver.map((e) => e.type)).toEqual(["EventRaised"]);
    expect(plan.entities).toEqual({ resend: [], awaited: [] });
  });

  it("asks again for a lock granted only after the cut, and does not redeliver the old grant", () => {
    const history: HistoryEvent[] = [
      { type: "OrchestratorStarted", timestamp: t },
      { type: "ExecutionStarted", timestamp: t, name: "o", input: null, executionId: "e" },
      { type: "EntityLockRequested", timestamp: t, step: 0, entities: a },
      { type: "TaskScheduled", timestamp: t, step: 1, name: "flaky", input: null, attempt: 1 },
      { type: "OrchestratorStarted", timestamp: t },
      { type: "TaskFailed", timestamp: t, step: 1, attempt: 1, failure: { ...failure, step: 1 } },
      { type: "EntityLockGranted", timestamp: t, step: 0 },
      { type: "ExecutionFailed", timestamp: t, failure: { ...failure, step: 1 } },
    ];
    const plan = planRewind(history, "i");
    expect(plan.keep).toBe(5);
    expect(plan.redeliver).toEqual([]);
    expect(plan.entities.section).toEqual({ step: 0, entities: a, held: false });
  });

  it("inside a held section: keeps the lock, awaits the call with no outcome, sends a failed one again", () => {
    const history: HistoryEvent[] = [
      { type: "OrchestratorStarted", timestamp: t },
      { type: "ExecutionStarted", timestamp: t, name: "o", input: null, executionId: "e" },
      { type: "EntityLockRequested", timestamp: t, step: 0, entities: a },
      { type: "OrchestratorStarted", timestamp: t },
      { type: "EntityLockGranted", timestamp: t, step: 0 },
      { type: "EntityCallScheduled", timestamp: t, step: 1, name: "account", key: "a", operation: "x", input: 1 },
      { type: "EntityCallScheduled", timestamp: t, step: 2, name: "account", key: "a", operation: "y", input: 2 },
      { type: "OrchestratorStarted", timestamp: t },
      {
        type: "EntityOperationFailed",
        timestamp: t,
        step: 2,
        failure: { name: "EntityOperationFailedError", message: "no", code: "ENTITY_OPERATION_FAILED", step: 2 },
      },
      {
        type: "ExecutionFailed",
        timestamp: t,
        failure: { name: "EntityOperationFailedError", message: "no", code: "ENTITY_OPERATION_FAILED", step: 2 },
      },
    ];
    const plan = planRewind(history, "i");
    expect(plan.keep).toBe(8);
    expect(plan.entities).toEqual({
      section: { step: 0, entities: a, held: true },
      awaited: [{ step: 1, name: "account", key: "a", operation: "x" }],
      resend: [{ step: 2, name: "account", key: "a", operation: "y", input: 2 }],
    });
  });
});
