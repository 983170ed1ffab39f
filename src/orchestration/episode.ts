import type { EntityAction } from "../entities/entityActions.js";
import type { FailureDetails } from "../errors/failure.js";
import type { HistoryEvent, IncomingEvent } from "../history/events.js";
import type { Action, ActionOf, Call, RetryableCall } from "./calls.js";

// What an episode of an orchestration produces, and the small pure helpers that build it.

export type EpisodeOutcome =
  | { status: "Running" }
  | { status: "Completed"; output: unknown }
  | { status: "Failed"; failure: FailureDetails }
  | {
      status: "ContinuedAsNew";
      input: unknown;
      carryOverEvents: Extract<IncomingEvent, { type: "EventRaised" }>[];
      preserveUnprocessedEvents: boolean;
    };

/** Everything one episode produced, to be committed in one transaction. */
export interface EpisodeResult {
  /** Events to append: the episode marker, the accepted incoming events, new calls, the end. */
  newEvents: HistoryEvent[];
  activities: ActionOf<"scheduleActivity">[];
  timers: ActionOf<"createTimer">[];
  subOrchestrations: ActionOf<"createSubOrchestration">[];
  /** Entity calls, signals, lock requests and releases, in the order the code made them. */
  entityActions?: EntityAction[];
  /** Steps of recorded timers that were cancelled: their TimerFired must never be delivered. */
  cancelledTimers: number[];
  outcome: EpisodeOutcome;
  customStatus: unknown;
  customStatusChanged: boolean;
}

export interface ExecutorOptions {
  /**
   * Tells whether a sub-orchestration (by name, on its queue) can run; unknown names fail at
   * the call. A worker can vouch only for the queues it serves.
   */
  isKnownOrchestration?: (name: string, queue: string) => boolean;
  /** Tells whether an entity name is registered here; unknown names fail at the call. */
  isKnownEntity?: (name: string) => boolean;
}

/** The action that retries a failed call at the same step, one attempt later. */
export function retryAction(step: number, call: Extract<Call, RetryableCall>): Action {
  return call.kind === "activity"
    ? { kind: "scheduleActivity", step, name: call.name, input: call.input, attempt: call.attempt, queue: call.queue }
    : {
        kind: "createSubOrchestration",
        step,
        name: call.name,
        instanceId: call.instanceId,
        input: call.input,
        attempt: call.attempt,
        queue: call.queue,
      };
}

/** The history event that ends an execution with this outcome, if it ended. */
export function endEvent(outcome: EpisodeOutcome, timestamp: number): HistoryEvent | undefined {
  switch (outcome.status) {
    case "Completed":
      return { type: "ExecutionCompleted", timestamp, output: outcome.output };
    case "Failed":
      return { type: "ExecutionFailed", timestamp, failure: outcome.failure };
    case "ContinuedAsNew":
      return { type: "ExecutionContinuedAsNew", timestamp, input: outcome.input };
    default:
      return undefined;
  }
}
