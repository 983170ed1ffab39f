import type { FailureDetails } from "../errors/failure.js";
import type { HistoryEvent } from "../history/events.js";

/** One entry of `historyEvents`, in Durable Functions' shape (PascalCase fields, ISO times). */
export type HistoryEventJson = { EventType: string; Timestamp: string } & Record<string, unknown>;

export interface HistoryJsonOptions {
  /** Include results and outputs (`Result`). Durable Functions' `showHistoryOutput`; default false. */
  showHistoryOutput?: boolean;
  /** Include inputs (`Input`). Durable Functions' `showInput`; default true. */
  showInput?: boolean;
  /** Include the stack traces of recorded failures (`StackTrace`). Default false. */
  showStacks?: boolean;
}

/** Durable Functions' FailureDetails, as its history and newer clients show them. */
export interface FailureDetailsJson {
  ErrorType: string;
  ErrorMessage: string;
  ErrorCode?: string;
  StackTrace?: string;
  InnerFailure?: FailureDetailsJson;
}

export function toFailureDetailsJson(failure: FailureDetails, showStacks = false): FailureDetailsJson {
  const json: FailureDetailsJson = { ErrorType: failure.name, ErrorMessage: failure.message };
  if (failure.code !== undefined) json.ErrorCode = failure.code;
  if (showStacks && failure.stack !== undefined) json.StackTrace = failure.stack;
  if (failure.cause) json.InnerFailure = toFailureDetailsJson(failure.cause, showStacks);
  return json;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Turns a history into Durable Functions' `historyEvents`, the way its HTTP API does:
 * OrchestratorStarted entries are left out; a TaskScheduled (or SubOrchestrationInstanceCreated)
 * whose outcome is recorded is folded into that outcome, which gains `FunctionName`,
 * `ScheduledTime` and `Input`; the end of an execution is an `ExecutionCompleted` with its
 * `OrchestrationStatus`. Inputs follow `showInput`, results and outputs `showHistoryOutput`.
 * Perdure adds fields Durable Functions tools ignore: `Step` and `Attempt` on calls and
 * timers (retries of a call share its step) and the child's `InstanceId` on sub-orchestrations.
 */
export function toHistoryJson(history: readonly HistoryEvent[], options: HistoryJsonOptions = {}): HistoryEventJson[] {
  const showOutput = options.showHistoryOutput === true;
  const showInput = options.showInput !== false;
  const details = (failure: FailureDetails) => toFailureDetailsJson(failure, options.showStacks === true);
  // Calls are matched to their outcomes by step and attempt (retries of one call share a step).
  const scheduled = new Map<string, { index: number; name: string; input: unknown; at: number; child?: string }>();
  const folded = new Set<number>();
  const key = (kind: string, step: number, attempt: number) => `${kind}:${step}:${attempt}`;
  history.forEach((event, index) => {
    if (event.type === "TaskScheduled" || event.type === "SubOrchestrationInstanceCreated") {
      const kind = event.type === "TaskScheduled" ? "task" : "sub";
      scheduled.set(key(kind, event.step, event.attempt), {
        index,
        name: event.name,
        input: event.input,
        at: event.timestamp,
        ...(event.type === "SubOrchestrationInstanceCreated" ? { child: event.instanceId } : {}),
      });
    }
  });
  const entries: (HistoryEventJson | undefined)[] = history.map((event) => {
    const base = { EventType: event.type as string, Timestamp: iso(event.timestamp) };
    const withInput = (entry: HistoryEventJson, input: unknown): HistoryEventJson => {
      if (showInput) entry.Input = input ?? null;
      return entry;
    };
    const outcome = (kind: "task" | "sub", step: number, attempt: number): HistoryEventJson => {
      const call = scheduled.get(key(kind, step, attempt));
      if (!call) return { ...base, Step: step, Attempt: attempt };
      folded.add(call.index);
      const entry: HistoryEventJson = { ...base, ScheduledTime: iso(call.at), FunctionName: call.name };
      if (call.child !== undefined) entry.InstanceId = call.child;
      return withInput(Object.assign(entry, { Step: step, Attempt: attempt }), call.input);
    };
    switch (event.type) {
      case "OrchestratorStarted":
        return undefined;
      case "ExecutionStarted":
        return withInput({ ...base, FunctionName: event.name }, event.input);
      case "TaskScheduled":
        return withInput({ ...base, Name: event.name, Step: event.step, Attempt: event.attempt }, event.input);
      case "SubOrchestrationInstanceCreated":
        return withInput(
          { ...base, Name: event.name, InstanceId: event.instanceId, Step: event.step, Attempt: event.attempt },
          event.input,
        );
      case "TaskCompleted":
      case "SubOrchestrationInstanceCompleted": {
        const entry = outcome(event.type === "TaskCompleted" ? "task" : "sub", event.step, event.attempt);
        if (showOutput) entry.Result = event.result ?? null;
        return entry;
      }
      case "TaskFailed":
      case "SubOrchestrationInstanceFailed": {
        const entry = outcome(event.type === "TaskFailed" ? "task" : "sub", event.step, event.attempt);
        entry.Reason = event.failure.message;
        entry.FailureDetails = details(event.failure);
        return entry;
      }
      case "TimerCreated":
        return {
          ...base,
          FireAt: iso(event.fireAt),
          Step: event.step,
          ...(event.attempt === undefined ? {} : { Attempt: event.attempt }),
        };
      case "TimerFired":
        return { ...base, FireAt: iso(event.fireAt), Step: event.step };
      case "EventRaised":
        return withInput({ ...base, Name: event.name }, event.input);
      case "PatchApplied":
        return { ...base, PatchId: event.patchId };
      case "ExecutionSuspended":
      case "ExecutionResumed":
      case "ExecutionRewound":
        return { ...base, Reason: event.reason };
      case "ExecutionTerminated":
        // Durable Functions records the reason of a termination as the event's input.
        return withInput({ ...base }, event.reason);
      case "ExecutionCompleted": {
        const entry: HistoryEventJson = { ...base, OrchestrationStatus: "Completed" };
        if (showOutput) entry.Result = event.output ?? null;
        return entry;
      }
      case "ExecutionFailed": {
        const entry: HistoryEventJson = { ...base, EventType: "ExecutionCompleted", OrchestrationStatus: "Failed" };
        if (showOutput) entry.Result = event.failure.message;
        entry.FailureDetails = details(event.failure);
        return entry;
      }
      case "ExecutionContinuedAsNew": {
        const entry: HistoryEventJson = {
          ...base,
          EventType: "ExecutionCompleted",
          OrchestrationStatus: "ContinuedAsNew",
        };
        if (showOutput) entry.Result = event.input ?? null;
        return entry;
      }
    }
    return undefined;
  });
  return entries.filter((entry, index): entry is HistoryEventJson => entry !== undefined && !folded.has(index));
}
