import type { ActivityDefinition } from "../definitions/activity.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import type { QueueLimits } from "../definitions/queue.js";
import type { AnyEntity } from "../entities/definition.js";
import { InvalidArgumentError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import type { Store } from "../store/store.js";

/** Any orchestration definition, whatever its input and output types. */
export type AnyOrchestration = OrchestrationDefinition<never, unknown>;
/** Any activity definition, whatever its input and output types. */
export type AnyActivity = ActivityDefinition<never, unknown>;

export interface WorkerOptions {
  store: Store;
  orchestrations: AnyOrchestration[];
  activities: AnyActivity[];
  /** Durable entities this worker applies operations to (and that its orchestrations may call). */
  entities?: AnyEntity[];
  /** Where the worker and `ctx.log` write. Default: `console`. */
  logger?: Logger;
  /** Activities run at once by this worker. Default 100. */
  maxConcurrentActivities?: number;
  /**
   * Instances this worker advances at once (episodes queued or running); it takes no more
   * ready instances from the store while at the limit. Default: unlimited.
   */
  maxConcurrentOrchestrations?: number;
  /**
   * The queues this worker serves: it runs the orchestrations and activities of these queues
   * only. Default: the queues of the definitions it registers ("default" unless they name
   * another), or ["default"] if it registers none.
   */
  queues?: string[];
  /**
   * Limits of queues that hold across every worker of the store, such as
   * `{ gpu: { concurrency: 2, ratePerSecond: 5 } }`. Written to the store at `start()`: each
   * queue named replaces that queue's stored limits (`{}` removes them); queues not named
   * keep what they have. Tasks of a limited queue are always claimed, never run on the fast path.
   */
  queueLimits?: Record<string, QueueLimits>;
  /** How long a lease lasts without renewal; a dead worker's instances move after this. Default 30 s. */
  leaseTtlMs?: number;
  /** Fallback poll for work written by other processes. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Instances with nothing running here are dropped from memory after this long. Default 30 s. */
  evictIdleAfterMs?: number;
  /** Time source; tests pass one they control. Default `Date.now`. */
  clock?: () => number;
  /** Stop gracefully on SIGINT and SIGTERM. Default true. */
  handleSignals?: boolean;
  /** How long `stop()` waits for running activities before leaving them for resumption. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * When to reserve ready instances as they are polled, so that competing workers do not run
   * the same first episode (PostgreSQL: an advisory lock, no write; SQLite: a row lease, a
   * transaction). "auto" (default): once another worker is seen on the store (it holds leases,
   * or took an instance this one had read); a lone worker needs no reservation, it takes the
   * lease in its first commit. "always": from the start, for workers that know they have peers.
   */
  leaseOnPoll?: "auto" | "always";
}

/** What a worker has done since it started; cheap to read, for metrics and tests. */
export interface WorkerStats {
  /** Episode commits the store accepted. */
  episodesCommitted: number;
  /** Episode commits refused because another worker had taken the instance (work wasted). */
  episodesRefused: number;
  /** Whether the worker currently reserves instances as it polls (it has seen other workers); the name is kept from when that was a lease. */
  leasingOnPoll: boolean;
  /** Activities started here and not finished, those waiting for a free slot included. */
  activitiesRunning: number;
  /** Instances held in memory (running, or idle until `evictIdleAfterMs`). */
  instancesInMemory: number;
}

/**
 * Lifecycle: idle → running (start) → stopping (stop) → stopped. A stopped worker cannot
 * be started again; create a new one.
 */
export type WorkerState = "idle" | "running" | "stopping" | "stopped";

export interface Worker {
  readonly id: string;
  /** The queues it serves. */
  readonly queues: readonly string[];
  readonly state: WorkerState;
  start(): Promise<void>;
  /** Finishes or hands back in-flight work, releases every lease, and resolves when done. */
  stop(): Promise<void>;
  /** Counters since `start()`. */
  stats(): WorkerStats;
}

/** The options a worker runs by, checked and with their defaults filled in. */
export interface WorkerSettings {
  maxActivities: number;
  maxOrchestrations: number;
  leaseTtlMs: number;
  pollIntervalMs: number;
  evictIdleAfterMs: number;
  shutdownTimeoutMs: number;
  leaseOnPoll: "auto" | "always";
  clock: () => number;
}

/** Checks a worker's numeric and mode options; a wrong one is an InvalidArgumentError naming it. */
export function resolveWorkerSettings(options: WorkerOptions): WorkerSettings {
  const { leaseOnPoll = "auto" } = options;
  if (leaseOnPoll !== "auto" && leaseOnPoll !== "always")
    throw new InvalidArgumentError(
      `createWorker: leaseOnPoll must be "auto" or "always", got ${JSON.stringify(leaseOnPoll)}.`,
    );
  return {
    maxActivities: positive(options.maxConcurrentActivities ?? 100, "maxConcurrentActivities"),
    maxOrchestrations:
      options.maxConcurrentOrchestrations === undefined
        ? Number.POSITIVE_INFINITY
        : positive(options.maxConcurrentOrchestrations, "maxConcurrentOrchestrations"),
    leaseTtlMs: positive(options.leaseTtlMs ?? 30_000, "leaseTtlMs"),
    pollIntervalMs: positive(options.pollIntervalMs ?? 1_000, "pollIntervalMs"),
    evictIdleAfterMs: positive(options.evictIdleAfterMs ?? 30_000, "evictIdleAfterMs"),
    shutdownTimeoutMs: positive(options.shutdownTimeoutMs ?? 30_000, "shutdownTimeoutMs"),
    leaseOnPoll,
    clock: options.clock ?? Date.now,
  };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`${name} must be a positive number, got ${value}.`);
  return value;
}
