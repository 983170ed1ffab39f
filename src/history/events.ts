import { describeEntityEvent } from "../entities/entityActions.js";
import type { EntityHistoryEvent, EntityIncomingType } from "../entities/events.js";
import type { FailureDetails } from "../errors/failure.js";

/** The instance that started a sub-orchestration, and the call that waits for it. */
export interface ParentLink {
  instanceId: string;
  executionId: string;
  step: number;
  attempt: number;
}

/**
 * History events: the append-only record of one instance, and the only source of truth.
 * Names follow Durable Functions' history event types. `step` is the sequence number of
 * the durable call an event belongs to (retries of one call share its step, and tell
 * themselves apart by `attempt`). Every event carries `timestamp`, milliseconds since the
 * epoch, when it was recorded.
 */
export type HistoryEvent =
  /** Opens each episode of the orchestration; its timestamp is `ctx.now()` for that episode. */
  | { type: "OrchestratorStarted"; timestamp: number }
  | {
      type: "ExecutionStarted";
      timestamp: number;
      name: string;
      input: unknown;
      executionId: string;
      parent?: ParentLink;
    }
  | {
      type: "TaskScheduled";
      timestamp: number;
      step: number;
      name: string;
      input: unknown;
      attempt: number;
      /** The activity's queue, recorded when it is not "default" (a rewind routes the call again by it). */
      queue?: string;
    }
  | { type: "TaskCompleted"; timestamp: number; step: number; attempt: number; result: unknown }
  | { type: "TaskFailed"; timestamp: number; step: number; attempt: number; failure: FailureDetails }
  /** `attempt` is set on a retry timer: the attempt it will start. */
  | { type: "TimerCreated"; timestamp: number; step: number; fireAt: number; attempt?: number }
  | { type: "TimerFired"; timestamp: number; step: number; fireAt: number }
  | {
      type: "SubOrchestrationInstanceCreated";
      timestamp: number;
      step: number;
      name: string;
      instanceId: string;
      input: unknown;
      attempt: number;
    }
  | { type: "SubOrchestrationInstanceCompleted"; timestamp: number; step: number; attempt: number; result: unknown }
  | {
      type: "SubOrchestrationInstanceFailed";
      timestamp: number;
      step: number;
      attempt: number;
      failure: FailureDetails;
    }
  | { type: "EventRaised"; timestamp: number; name: string; input: unknown }
  /** The code took the new branch of `ctx.patched(patchId)`. */
  | { type: "PatchApplied"; timestamp: number; patchId: string }
  | { type: "ExecutionSuspended"; timestamp: number; reason: string }
  | { type: "ExecutionResumed"; timestamp: number; reason: string }
  | { type: "ExecutionRewound"; timestamp: number; reason: string }
  | { type: "ExecutionCompleted"; timestamp: number; output: unknown }
  | { type: "ExecutionFailed"; timestamp: number; failure: FailureDetails }
  | { type: "ExecutionTerminated"; timestamp: number; reason: string }
  /** The execution ended by continuing as new; only seen in the status, never replayed. */
  | { type: "ExecutionContinuedAsNew"; timestamp: number; input: unknown }
  /** Calls to durable entities and their outcomes (see src/entities/events.ts). */
  | EntityHistoryEvent;

export type HistoryEventType = HistoryEvent["type"];

/** Events that arrive from outside an episode (results, timers, events): they wait in the inbox. */
export type IncomingEvent = Extract<
  HistoryEvent,
  {
    type:
      | "ExecutionStarted"
      | "TaskCompleted"
      | "TaskFailed"
      | "TimerFired"
      | "SubOrchestrationInstanceCompleted"
      | "SubOrchestrationInstanceFailed"
      | "EventRaised"
      | "ExecutionRewound"
      | EntityIncomingType;
  }
>;

/** Events that record a durable call the code made: on replay each must match the code's call at its step. */
export type DurableCallEvent = Extract<
  HistoryEvent,
  {
    type:
      | "TaskScheduled"
      | "TimerCreated"
      | "SubOrchestrationInstanceCreated"
      | "EntityCallScheduled"
      | "EntitySignalSent"
      | "EntityLockRequested"
      | "EntityUnlockSent";
  }
>;

const DURABLE_CALL_TYPES: ReadonlySet<HistoryEventType> = new Set<DurableCallEvent["type"]>([
  "TaskScheduled",
  "TimerCreated",
  "SubOrchestrationInstanceCreated",
  "EntityCallScheduled",
  "EntitySignalSent",
  "EntityLockRequested",
  "EntityUnlockSent",
]);

/** Whether an event records a durable call the code made. */
export function isDurableCallEvent(event: HistoryEvent): event is DurableCallEvent {
  return DURABLE_CALL_TYPES.has(event.type);
}

/** A one-line description of an event, for determinism errors and logs. */
export function describeEvent(event: HistoryEvent): string {
  switch (event.type) {
    case "TaskScheduled":
      return `activity "${event.name}" scheduled at step ${event.step}`;
    case "SubOrchestrationInstanceCreated":
      return `sub-orchestration "${event.name}" (instance "${event.instanceId}") started at step ${event.step}`;
    case "TimerCreated":
      return event.attempt === undefined ? `a timer at step ${event.step}` : `a retry timer at step ${event.step}`;
    case "EventRaised":
      return `event "${event.name}"`;
    case "EntityCallScheduled":
    case "EntitySignalSent":
    case "EntityLockRequested":
    case "EntityUnlockSent":
      return describeEntityEvent(event);
    default:
      return "step" in event ? `${event.type} at step ${event.step}` : event.type;
  }
}
