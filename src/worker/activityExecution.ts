import type { ActivityContext, ActivityDefinition } from "../definitions/activity.js";
import { entityCallFromActivity } from "../entities/errors.js";
import { ActivityTimeoutError, UnknownActivityError } from "../errors/errors.js";
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
  const where = { instanceId: task.instanceId, step: task.step };
  const limit = definition?.timeoutMs === undefined ? undefined : new AttemptLimit(signal, definition.timeoutMs);
  try {
    if (!definition) throw new UnknownActivityError(task.name, where);
    const ctx: ActivityContext = {
      instanceId: task.instanceId,
      name: task.name,
      attempt: task.attempt,
      idempotencyKey: idempotencyKeyOf(task),
      signal: limit?.signal ?? signal,
      callEntity: entityCallFromActivity,
    };
    const running = definition.fn(task.input, ctx);
    const result = await (limit
      ? limit.race(running, (ms) => new ActivityTimeoutError(task.name, ms, task.attempt, where))
      : running);
    assertSerializable(result, `result of activity "${task.name}"`, where);
    return { type: "TaskCompleted", timestamp: now(), ...base, result };
  } catch (error) {
    return { type: "TaskFailed", timestamp: now(), ...base, failure: toFailureDetails(error) };
  } finally {
    limit?.dispose();
  }
}

/**
 * The signal and deadline of one attempt of an activity that has a timeout: aborted when the
 * worker stops, or when the deadline passes (then the attempt fails, whatever the function
 * does later; JavaScript cannot stop it, only ask it through the signal).
 */
class AttemptLimit {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly forward = (): void => this.controller.abort(this.worker.reason);

  constructor(
    private readonly worker: AbortSignal,
    private readonly timeoutMs: number,
  ) {
    if (worker.aborted) this.forward();
    else worker.addEventListener("abort", this.forward, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** `running`, or `timedOut`'s error once the deadline passes first. */
  async race<T>(running: T | Promise<T>, timedOut: (timeoutMs: number) => Error): Promise<T> {
    let expired: Error | undefined;
    const deadline = new Promise<never>((_, reject) => {
      this.timer = setTimeout(() => {
        expired = timedOut(this.timeoutMs);
        reject(expired);
        // After the rejection: a function that returns as soon as it is aborted must not win.
        this.controller.abort(expired);
      }, this.timeoutMs);
    });
    const result = await Promise.race([running, deadline]);
    if (expired) throw expired;
    return result;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.worker.removeEventListener("abort", this.forward);
  }
}
