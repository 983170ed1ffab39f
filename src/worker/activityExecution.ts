import type { ActivityContext, ActivityDefinition } from "../definitions/activity.js";
import { entityCallFromActivity } from "../entities/errors.js";
import { UnknownActivityError } from "../errors/errors.js";
import { toFailureDetails } from "../errors/failure.js";
import type { IncomingEvent } from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import type { ActivityTask } from "../store/store.js";

export type ActivityOutcomeEvent = Extract<IncomingEvent, { type: "TaskCompleted" | "TaskFailed" }>;

/** The key an activity call keeps across retries, replays and crashes. */
export function idempotencyKeyOf(task: Pick<ActivityTask, "instanceId" | "executionId" | "step">): string {
  return `${task.instanceId}:${task.executionId}:${task.step}`;
}

/**
 * Runs one attempt of an activity and turns its outcome into the history event that
 * records it. Never throws: a failure, an unknown name or a result that cannot be stored
 * all become TaskFailed.
 */
export async function executeActivity(
  definition: ActivityDefinition<unknown, unknown> | undefined,
  task: ActivityTask,
  signal: AbortSignal,
  now: () => number,
): Promise<ActivityOutcomeEvent> {
  const base = { step: task.step, attempt: task.attempt };
  try {
    if (!definition) throw new UnknownActivityError(task.name, { instanceId: task.instanceId, step: task.step });
    const ctx: ActivityContext = {
      instanceId: task.instanceId,
      name: task.name,
      attempt: task.attempt,
      idempotencyKey: idempotencyKeyOf(task),
      signal,
      callEntity: entityCallFromActivity,
    };
    const result = await definition.fn(task.input, ctx);
    assertSerializable(result, `result of activity "${task.name}"`, { instanceId: task.instanceId, step: task.step });
    return { type: "TaskCompleted", timestamp: now(), ...base, result };
  } catch (error) {
    return { type: "TaskFailed", timestamp: now(), ...base, failure: toFailureDetails(error) };
  }
}
