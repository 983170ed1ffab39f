import type { ActivityDefinition } from "../definitions/activity.js";
import type { RetryPolicy } from "../definitions/retryPolicy.js";
import type { DurableTask } from "./durableTask.js";
import type { Logger } from "./logger.js";

export interface CallActivityOptions {
  /** Overrides the activity definition's retry policy for this call. */
  retry?: RetryPolicy;
}

/** The arguments after the definition: input may be left out when the activity takes none. */
export type ActivityCallArgs<I> = undefined extends I
  ? [input?: I, options?: CallActivityOptions]
  : [input: I, options?: CallActivityOptions];

/**
 * What an orchestration may use. Every method is deterministic: replaying the code against
 * its history gives the same values, which is what lets Perdure resume it anywhere.
 */
export interface OrchestrationContext {
  /** The id of this instance. */
  readonly instanceId: string;
  /** The orchestration's registered name. */
  readonly name: string;
  /** True while the code re-runs against recorded history (after a restart or a move). */
  readonly isReplaying: boolean;
  /** A logger that stays silent during replay, so each line is written once. */
  readonly log: Logger;
  /** The current time of this episode, as recorded in history (never the wall clock). */
  now(): Date;
  /** A UUID that is the same on every replay. */
  newGuid(): string;
  /** A number in [0, 1) that is the same on every replay. */
  random(): number;
  /** Schedules an activity and resolves with its result, or rejects with `ActivityFailedError`. */
  callActivity<I, O>(activity: ActivityDefinition<I, O>, ...args: ActivityCallArgs<I>): DurableTask<O>;
  /** Publishes a small JSON value in the instance's status (progress, a stage name, …). */
  setCustomStatus(status: unknown): void;
}
