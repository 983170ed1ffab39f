import { InvalidArgumentError } from "../errors/errors.js";
import { type Duration, toMilliseconds } from "../time/duration.js";

/** How a failed activity is retried. Retries are durable: each waits on a durable timer. */
export interface RetryPolicy {
  /** Attempts in all, the first included. 1 means no retry. */
  maxAttempts: number;
  /** Wait before the second attempt. Default 1s. */
  firstInterval?: Duration;
  /** Each wait is the previous one times this. Default 2. */
  backoffCoefficient?: number;
  /** Upper bound for one wait. Default: none. */
  maxInterval?: Duration;
  /** No attempt starts later than this after the first one started. Default: none. */
  totalTimeout?: Duration;
  /** Decides whether an error is worth another attempt. Default: every error is. */
  isRetryable?: (error: Error) => boolean;
}

/** A retry policy checked once and reduced to milliseconds. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  firstIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  totalTimeoutMs: number;
  isRetryable?: (error: Error) => boolean;
}

export const NO_RETRY: ResolvedRetryPolicy = {
  maxAttempts: 1,
  firstIntervalMs: 0,
  backoffCoefficient: 1,
  maxIntervalMs: Number.POSITIVE_INFINITY,
  totalTimeoutMs: Number.POSITIVE_INFINITY,
};

/** Validates a retry policy, so that a typo fails at the call, not at the first failure. */
export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  if (policy === undefined) return NO_RETRY;
  const { maxAttempts, backoffCoefficient = 2, isRetryable } = policy;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`retry.maxAttempts must be an integer of 1 or more, got ${maxAttempts}.`);
  }
  if (!Number.isFinite(backoffCoefficient) || backoffCoefficient < 1) {
    throw new InvalidArgumentError(
      `retry.backoffCoefficient must be a number of 1 or more, got ${backoffCoefficient}.`,
    );
  }
  if (isRetryable !== undefined && typeof isRetryable !== "function") {
    throw new InvalidArgumentError("retry.isRetryable must be a function (error) => boolean.");
  }
  const resolved: ResolvedRetryPolicy = {
    maxAttempts,
    firstIntervalMs: toMilliseconds(policy.firstInterval ?? 1_000, "retry.firstInterval"),
    backoffCoefficient,
    maxIntervalMs:
      policy.maxInterval === undefined
        ? Number.POSITIVE_INFINITY
        : toMilliseconds(policy.maxInterval, "retry.maxInterval"),
    totalTimeoutMs:
      policy.totalTimeout === undefined
        ? Number.POSITIVE_INFINITY
        : toMilliseconds(policy.totalTimeout, "retry.totalTimeout"),
  };
  if (isRetryable) resolved.isRetryable = isRetryable;
  return resolved;
}

/**
 * The wait before attempt `failedAttempt + 1`, or undefined when the policy gives up.
 * `elapsedMs` is the time since the first attempt was scheduled.
 */
export function nextRetryDelay(
  policy: ResolvedRetryPolicy,
  failedAttempt: number,
  elapsedMs: number,
  error: Error,
): number | undefined {
  if (failedAttempt >= policy.maxAttempts) return undefined;
  if (policy.isRetryable && !policy.isRetryable(error)) return undefined;
  const delay = Math.min(
    policy.firstIntervalMs * policy.backoffCoefficient ** (failedAttempt - 1),
    policy.maxIntervalMs,
  );
  if (elapsedMs + delay > policy.totalTimeoutMs) return undefined;
  return delay;
}
