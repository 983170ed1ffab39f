import { InvalidArgumentError } from "../errors/errors.js";
import type { HistoryEvent, HistoryEventType } from "../history/events.js";

// Every history event type, checked by the compiler against HistoryEvent: an event of
// another type in a saved history is refused rather than replayed as if it were a marker.
const EVENT_TYPES: Record<HistoryEventType, true> = {
  OrchestratorStarted: true,
  ExecutionStarted: true,
  TaskScheduled: true,
  TaskCompleted: true,
  TaskFailed: true,
  TimerCreated: true,
  TimerFired: true,
  SubOrchestrationInstanceCreated: true,
  SubOrchestrationInstanceCompleted: true,
  SubOrchestrationInstanceFailed: true,
  EventRaised: true,
  PatchApplied: true,
  ExecutionSuspended: true,
  ExecutionResumed: true,
  ExecutionRewound: true,
  ExecutionCompleted: true,
  ExecutionFailed: true,
  ExecutionTerminated: true,
  ExecutionContinuedAsNew: true,
  EntityCallScheduled: true,
  EntitySignalSent: true,
  EntityLockRequested: true,
  EntityUnlockSent: true,
  EntityOperationCompleted: true,
  EntityOperationFailed: true,
  EntityLockGranted: true,
};

/**
 * A history as `client.getHistory` returns it, or as `perdure history ID --json` printed it
 * (times as ISO strings): checked, with times as epoch milliseconds. Throws
 * InvalidArgumentError naming the first event that is not a history event.
 */
export function toSavedHistory(history: readonly unknown[]): HistoryEvent[] {
  if (!Array.isArray(history)) {
    throw new InvalidArgumentError(
      `A history must be an array of events (client.getHistory(id), or perdure history ID --json), got ${history === null ? "null" : typeof history}.`,
    );
  }
  return history.map((item, index) => {
    const event = item as Record<string, unknown> | null;
    const type = event?.type;
    if (typeof event !== "object" || event === null || typeof type !== "string" || !(type in EVENT_TYPES)) {
      throw new InvalidArgumentError(
        `history[${index}] is not a history event: it needs a "type" such as "TaskScheduled"${typeof type === "string" ? `, not "${type}"` : ""}.`,
      );
    }
    const copy: Record<string, unknown> = { ...event, timestamp: toEpoch(event.timestamp, index, "timestamp") };
    if ("fireAt" in event) copy.fireAt = toEpoch(event.fireAt, index, "fireAt");
    return copy as HistoryEvent;
  });
}

function toEpoch(value: unknown, index: number, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : value;
  if (typeof ms !== "number" || !Number.isFinite(ms)) {
    throw new InvalidArgumentError(
      `history[${index}].${field} must be epoch milliseconds or an ISO time, got ${JSON.stringify(value)}.`,
    );
  }
  return ms;
}
