import { InvalidArgumentError } from "../errors/errors.js";

/** The queue of every orchestration and activity that names none. */
export const DEFAULT_QUEUE = "default";

const QUEUE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Validates a queue name: 1–100 characters of letters, digits, `.`, `_` and `-`. Queue names
 * are stored with every task and instance, and compared by workers across processes, so
 * they are kept plain.
 */
export function checkQueueName(name: unknown, where: string): string {
  if (typeof name !== "string" || !QUEUE_NAME.test(name)) {
    throw new InvalidArgumentError(
      `${where}: a queue name is 1 to 100 letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}.`,
    );
  }
  return name;
}

/**
 * Limits of one queue that hold across every worker of a store. A queue without limits runs
 * as much as its workers' own limits allow.
 */
export interface QueueLimits {
  /** Most activity tasks of the queue running at once, over all workers. */
  concurrency?: number;
  /** Most activity task starts per second, over all workers (a token bucket). */
  ratePerSecond?: number;
  /** Starts allowed at once after an idle spell (the bucket's size). Default: `ratePerSecond` rounded up, at least 1. */
  burst?: number;
}

/** A queue's limits as a store keeps them. */
export interface QueueSettings {
  name: string;
  concurrency?: number;
  ratePerSecond?: number;
  /** Set exactly when `ratePerSecond` is. */
  burst?: number;
}

const LIMIT_KEYS = new Set(["concurrency", "ratePerSecond", "burst"]);

/** Validates `queueLimits` as given to `createWorker` and resolves defaults. */
export function resolveQueueLimits(limits: unknown): QueueSettings[] {
  if (limits === undefined) return [];
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) {
    throw new InvalidArgumentError("createWorker: queueLimits must be an object of queue name → limits.");
  }
  return Object.entries(limits).map(([name, value]) => {
    const where = `createWorker: queueLimits["${name}"]`;
    checkQueueName(name, "createWorker: queueLimits");
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`${where} must be an object such as { concurrency: 2, ratePerSecond: 5 }.`);
    }
    for (const key of Object.keys(value)) {
      if (!LIMIT_KEYS.has(key)) {
        throw new InvalidArgumentError(
          `${where} has an unknown option "${key}"; known: concurrency, ratePerSecond, burst.`,
        );
      }
    }
    const { concurrency, ratePerSecond, burst } = value as QueueLimits;
    const settings: QueueSettings = { name };
    if (concurrency !== undefined) {
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new InvalidArgumentError(
          `${where}.concurrency must be a whole number of at least 1, got ${concurrency}.`,
        );
      }
      settings.concurrency = concurrency;
    }
    if (ratePerSecond !== undefined) {
      if (typeof ratePerSecond !== "number" || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
        throw new InvalidArgumentError(`${where}.ratePerSecond must be a positive number, got ${ratePerSecond}.`);
      }
      settings.ratePerSecond = ratePerSecond;
      settings.burst = Math.max(1, Math.ceil(ratePerSecond));
    }
    if (burst !== undefined) {
      if (ratePerSecond === undefined) {
        throw new InvalidArgumentError(`${where}.burst needs ratePerSecond: it is the size of the rate's bucket.`);
      }
      if (!Number.isInteger(burst) || burst < 1) {
        throw new InvalidArgumentError(`${where}.burst must be a whole number of at least 1, got ${burst}.`);
      }
      settings.burst = burst;
    }
    return settings;
  });
}
