import { InvalidArgumentError } from "../errors/errors.js";
import { type RetryPolicy, resolveRetryPolicy } from "./retryPolicy.js";

/** What an activity knows about the call it serves. */
export interface ActivityContext {
  /** The orchestration instance that called the activity. */
  readonly instanceId: string;
  /** The activity's registered name. */
  readonly name: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /**
   * The same for every attempt and every replay of this one call, and different for every
   * other call: key side effects by it (an upsert, a payment's idempotency key) so that a
   * re-run after a crash does not repeat them.
   */
  readonly idempotencyKey: string;
  /** Aborted when the worker is shutting down; long activities may stop early and be retried. */
  readonly signal: AbortSignal;
}

export type ActivityFunction<I, O> = (input: I, ctx: ActivityContext) => O | Promise<O>;

export interface ActivityOptions {
  /** Retry policy used by calls that do not give their own. */
  retry?: RetryPolicy;
}

/** A registered unit of work. Create with `activity()`. */
export interface ActivityDefinition<I = unknown, O = unknown> {
  readonly kind: "activity";
  readonly name: string;
  readonly fn: ActivityFunction<I, O>;
  readonly options: ActivityOptions;
}

/** Validates a definition's name: it is stored in history and must stay stable across deploys. */
export function checkDefinitionName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
    throw new InvalidArgumentError(
      `${kind} name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}.`,
    );
  }
}

/**
 * Defines an activity: a function that does real work (I/O, side effects). It runs at least
 * once per call, is retried by policy, and its result is recorded so it never re-runs after
 * it completed.
 */
export function activity<I, O>(
  name: string,
  fn: ActivityFunction<I, O>,
  options: ActivityOptions = {},
): ActivityDefinition<I, Awaited<O>> {
  checkDefinitionName("activity", name);
  if (typeof fn !== "function") throw new InvalidArgumentError(`activity "${name}" needs a function.`);
  // Checked here so that a typo fails at start-up, not at the first failure of the activity.
  resolveRetryPolicy(options.retry);
  return { kind: "activity", name, fn: fn as ActivityFunction<I, Awaited<O>>, options };
}
