import { InvalidArgumentError } from "../errors/errors.js";
import { type Duration, toMilliseconds } from "../time/duration.js";
import { checkQueueName, DEFAULT_QUEUE } from "./queue.js";
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
  /**
   * Aborted when the attempt ran past the definition's `timeout`, when its instance was
   * terminated, or when the worker is shutting down: long activities should watch it and stop
   * early (a result that comes after it is dropped).
   */
  readonly signal: AbortSignal;
  /**
   * Always throws `EntityCallNotAllowedError`: an activity may run more than once and cannot
   * wait durably, so it cannot call entities. Call them from the orchestration instead.
   */
  callEntity(entity: unknown, key: string, operation: string, input?: unknown): never;
}

export type ActivityFunction<I, O> = (input: I, ctx: ActivityContext) => O | Promise<O>;

export interface ActivityOptions {
  /** Retry policy used by calls that do not give their own. */
  retry?: RetryPolicy;
  /**
   * How long one attempt may run (`"30s"`, `30_000`). Past it the attempt fails with
   * `ActivityTimeoutError` (retried by policy) and `ctx.signal` is aborted. Default: no limit.
   */
  timeout?: Duration;
  /** The queue its calls are routed to: only workers serving it run them. Default "default". */
  queue?: string;
}

/** A registered unit of work. Create with `activity()`. */
export interface ActivityDefinition<I = unknown, O = unknown> {
  readonly kind: "activity";
  readonly name: string;
  readonly fn: ActivityFunction<I, O>;
  readonly options: ActivityOptions;
  /** The queue its calls are routed to. */
  readonly queue: string;
  /** `options.timeout` in milliseconds, if it has one. */
  readonly timeoutMs?: number;
}

/** Validates a definition's name: it is stored in history and must stay stable across deploys. */
export function checkDefinitionName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "" || name.length > 200) {
    throw new InvalidArgumentError(
      `${kind} name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}.`,
    );
  }
}

/** Refuses an options bag that is not an object or has keys the definition does not know (a typo). */
export function checkOptionKeys(options: unknown, known: readonly string[], where: string): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: options must be an object.`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`${where}: unknown option "${key}"; known: ${known.join(", ")}.`);
    }
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
  checkOptionKeys(options, ["retry", "queue", "timeout"], `activity "${name}"`);
  // Checked here so that a typo fails at start-up, not at the first failure of the activity.
  resolveRetryPolicy(options.retry);
  const queue = options.queue === undefined ? DEFAULT_QUEUE : checkQueueName(options.queue, `activity "${name}"`);
  const definition = { kind: "activity" as const, name, fn: fn as ActivityFunction<I, Awaited<O>>, options, queue };
  if (options.timeout === undefined) return definition;
  const timeoutMs = toMilliseconds(options.timeout, `activity "${name}": timeout`);
  if (timeoutMs <= 0) throw new InvalidArgumentError(`activity "${name}": timeout must be longer than 0 ms.`);
  return { ...definition, timeoutMs };
}
