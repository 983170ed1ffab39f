import { DEFAULT_QUEUE } from "../definitions/queue.js";
import type { ResolvedRetryPolicy } from "../definitions/retryPolicy.js";
import {
  describeEntityAction,
  type EntityAction,
  entityActionMatches,
  entityActionToEvent,
} from "../entities/entityActions.js";
import type { HistoryEvent } from "../history/events.js";
import type { DurableTask, TimerTask } from "./durableTask.js";

/** A durable call the code made and that history has not recorded yet. */
export type Action =
  | { kind: "scheduleActivity"; step: number; name: string; input: unknown; attempt: number; queue: string }
  | { kind: "createTimer"; step: number; fireAt: number; attempt?: number }
  | {
      kind: "createSubOrchestration";
      step: number;
      name: string;
      instanceId: string;
      input: unknown;
      attempt: number;
      queue: string;
    }
  | EntityAction;

export type ActionOf<K extends Action["kind"]> = Extract<Action, { kind: K }>;

/** A call that retries by policy: its attempts share one step. */
export interface RetryableCall {
  name: string;
  /** The queue of the definition called: where its attempts are routed. */
  queue: string;
  input: unknown;
  policy: ResolvedRetryPolicy;
  firstScheduledAt: number;
  attempt: number;
  waitingForRetry: boolean;
  task: DurableTask<unknown>;
}

/** What the executor knows of one durable call, by its step. */
export type Call =
  | ({ kind: "activity" } & RetryableCall)
  | ({ kind: "subOrchestration"; instanceId: string } & RetryableCall)
  | { kind: "timer"; task: TimerTask; fireAt: number; onFire?: () => void };

/** The history event that records an action. */
export function actionToEvent(action: Action, timestamp: number): HistoryEvent {
  switch (action.kind) {
    case "scheduleActivity": {
      const event: HistoryEvent = {
        type: "TaskScheduled",
        timestamp,
        step: action.step,
        name: action.name,
        input: action.input,
        attempt: action.attempt,
      };
      // Default-queue histories stay as they were before queues existed.
      if (action.queue !== DEFAULT_QUEUE) event.queue = action.queue;
      return event;
    }
    case "createTimer": {
      const event: HistoryEvent = { type: "TimerCreated", timestamp, step: action.step, fireAt: action.fireAt };
      if (action.attempt !== undefined) event.attempt = action.attempt;
      return event;
    }
    case "createSubOrchestration":
      return {
        type: "SubOrchestrationInstanceCreated",
        timestamp,
        step: action.step,
        name: action.name,
        instanceId: action.instanceId,
        input: action.input,
        attempt: action.attempt,
      };
    default:
      return entityActionToEvent(action, timestamp);
  }
}

/** Whether a recorded scheduling event is the one the code's action would have written. */
export function actionMatches(action: Action | undefined, event: HistoryEvent): boolean {
  if (!action) return false;
  switch (event.type) {
    case "TaskScheduled":
      return action.kind === "scheduleActivity" && action.name === event.name && action.attempt === event.attempt;
    case "TimerCreated":
      return action.kind === "createTimer" && action.attempt === event.attempt;
    case "SubOrchestrationInstanceCreated":
      return (
        action.kind === "createSubOrchestration" &&
        action.name === event.name &&
        action.instanceId === event.instanceId &&
        action.attempt === event.attempt
      );
    default:
      return entityActionMatches(action, event);
  }
}

/** What the code did at a step, for determinism errors. */
export function describeAction(action: Action | undefined, step: number): string {
  if (!action) return `made no durable call at step ${step}`;
  switch (action.kind) {
    case "scheduleActivity":
      return `called activity "${action.name}" at step ${step}`;
    case "createTimer":
      return action.attempt === undefined ? `created a timer at step ${step}` : `created a retry timer at step ${step}`;
    case "createSubOrchestration":
      return `called sub-orchestration "${action.name}" (instance "${action.instanceId}") at step ${step}`;
    default:
      return describeEntityAction(action, step);
  }
}
