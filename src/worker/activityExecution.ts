import type { ActivityContext, ActivityDefinition } from "../definitions/activity.js";
import { entityCallFromActivity } from "../entities/errors.js";
import { ActivityTimeoutError, UnknownActivityError } from "../errors/errors.js";
import { toFailureDetails } from "../errors/failure.js";
import type { IncomingEvent } from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import type { ActivityTask } from "../store/store.js";
import type { AttemptSignal } from "./activityAttempts.js";

export type ActivityOutcomeEvent = Extract<IncomingEvent, { type: "TaskCompleted" | "TaskFailed" }>;

/** The key an activity call keeps across retries, replays and crashes. */
export function idempotencyKeyOf(task: Pick<ActivityTask, "instanceId" | "executionId" | "step">): string {
  return `${task.instanceId}:${task.executionId}:${task.step}`;
}

/**
 * Runs one attempt of an activity and turns its outcome into the history event that
 * records it. Never throws: a failure, an unknown name, a timeout or a result that cannot
 * be stored all become TaskFailed.
 */
export async function executeActivity(
  definition: ActivityDefinition<unknown, unknown> | undefined,
  task: ActivityTask,
  attempt: AttemptSignal,
  now: () => number,
): Promise<ActivityOutcomeEvent> {
  const base = { step: task.step, attempt: task.attempt };
  const where = { instanceId: task.instanceId, step: task.step };
  try {
    if (!definition) throw new UnknownActivityError(task.name, where);
    const ctx = new AttemptContext(task, attempt);
    const running = definition.fn(task.input, ctx);
    const { timeoutMs } = definition;
    const result = await (timeoutMs === undefined
      ? running
      : withDeadline(
          running,
          timeoutMs,
          attempt,
          () => new ActivityTimeoutError(task.name, timeoutMs, task.attempt, where),
        ));
    assertSerializable(result, `result of activity "${task.name}"`, where);
    return { type: "TaskCompleted", timestamp: now(), ...base, result };
  } catch (error) {
    return { type: "TaskFailed", timestamp: now(), ...base, failure: toFailureDetails(error) };
  }
}

/** What an activity is told of its call; `signal` is made when first read (see AttemptSignal). */
class AttemptContext implements ActivityContext {
  readonly instanceId: string;
  readonly name: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly callEntity = entityCallFromActivity;
  // A true private field: logging or serialising ctx shows the call, not the worker's internals.
  readonly #attemptSignal: AttemptSignal;

  constructor(task: ActivityTask, attemptSignal: AttemptSignal) {
    this.instanceId = task.instanceId;
    this.name = task.name;
    this.attempt = task.attempt;
    this.idempotencyKey = idempotencyKeyOf(task);
    this.#attemptSignal = attemptSignal;
  }

  get signal(): AbortSignal {
    return this.#attemptSignal.signal;
  }
}

/**
 * `running`, or the timeout's error once `timeoutMs` pass first; then the attempt's signal is
 * aborted too. JavaScript cannot stop the function, only ask it through the signal; whatever
 * it returns later is dropped.
 */
async function withDeadline<T>(
  running: T | Promise<T>,
  timeoutMs: number,
  attempt: AttemptSignal,
  timedOut: () => Error,
): Promise<T> {
  let expired: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = timedOut();
      reject(expired);
      // After the rejection: a function that returns as soon as it is aborted must not win.
      attempt.abort(expired);
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([running, deadline]);
    if (expired) throw expired;
    return result;
  } finally {
    clearTimeout(timer);
  }
}
