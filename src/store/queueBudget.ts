import type { QueueSettings } from "../definitions/queue.js";

/** A limited queue as stored: its limits and its token bucket (as it was at `refilledAt`). */
export interface QueueState extends QueueSettings {
  tokens?: number;
  refilledAt?: number;
}

/** Floating-point slack, so that a bucket refilled to 0.9999999 token counts as 1. */
const EPSILON = 1e-9;

/**
 * The level of a queue's token bucket at `now`: what it held at `refilledAt`, plus
 * `ratePerSecond` a second since, up to `burst`. A clock that went back (another machine's)
 * adds nothing. Undefined for a queue without a rate.
 */
export function tokensAt(queue: QueueState, now: number): number | undefined {
  if (queue.ratePerSecond === undefined) return undefined;
  const burst = queue.burst ?? 1;
  const held = queue.tokens ?? burst;
  const elapsed = Math.max(0, now - (queue.refilledAt ?? now));
  return Math.min(burst, held + (elapsed * queue.ratePerSecond) / 1000);
}

/**
 * How many tasks of a queue one claim may lease: no more than `limit`, than its concurrency
 * leaves free given `running` unexpired leases, nor than the whole tokens in its bucket.
 * The PostgreSQL store computes the same in SQL (postgres/claims.ts).
 */
export function claimBudget(queue: QueueState | undefined, running: number, now: number, limit: number): number {
  let budget = limit;
  if (queue?.concurrency !== undefined) budget = Math.min(budget, queue.concurrency - running);
  const tokens = queue ? tokensAt(queue, now) : undefined;
  if (tokens !== undefined) budget = Math.min(budget, Math.floor(tokens + EPSILON));
  return Math.max(0, budget);
}

/** When a rate-limited queue's bucket next holds a whole token, if it does not now. */
export function nextTokenAt(queue: QueueState, now: number): number | undefined {
  const tokens = tokensAt(queue, now);
  if (tokens === undefined || tokens + EPSILON >= 1 || queue.ratePerSecond === undefined) return undefined;
  return now + Math.ceil(((1 - tokens) * 1000) / queue.ratePerSecond);
}
