import type { ActivityDefinition } from "../definitions/activity.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import type { RetryPolicy } from "../definitions/retryPolicy.js";
import type { SignalEntityOptions } from "../entities/context.js";
import type {
  AnyEntity,
  OperationArgsWith,
  OperationInputArgs,
  OperationName,
  OperationResult,
} from "../entities/definition.js";
import type { EntityLock, EntityLockTarget } from "../entities/orchestrationEntities.js";
import type { Duration } from "../time/duration.js";
import type { CancellableTask, DurableTask, TimerTask } from "./durableTask.js";
import type { Logger } from "./logger.js";

export interface CallActivityOptions {
  /** Overrides the activity definition's retry policy for this call. */
  retry?: RetryPolicy;
}

export interface CallSubOrchestrationOptions {
  /** The child's instance id. Default: `<parent id>:<step>`, the same on every replay. */
  instanceId?: string;
  /** Retries start a new run of the child under the same id. */
  retry?: RetryPolicy;
}

export interface WaitForEventOptions {
  /** Give up with an EventTimeoutError after this long (a durable timer). Default: wait forever. */
  timeout?: Duration;
}

export interface ContinueAsNewOptions {
  /** Carry events that arrived but were not yet waited for into the new execution. Default false: they are dropped. */
  preserveUnprocessedEvents?: boolean;
}

/** The arguments after the definition: input may be left out when the callee takes none. */
export type CallArgs<I, O> = undefined extends I ? [input?: I, options?: O] : [input: I, options?: O];
export type ActivityCallArgs<I> = CallArgs<I, CallActivityOptions>;

/** The values of a tuple of durable tasks. */
export type TaskValues<T extends readonly PromiseLike<unknown>[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/**
 * What an orchestration may use. Every method is deterministic: replaying the code against
 * its history gives the same values, which is what lets Perdure resume it anywhere.
 */
export interface OrchestrationContext {
  /** The id of this instance. */
  readonly instanceId: string;
  /** The orchestration's registered name. */
  readonly name: string;
  /** The parent's instance id, when this instance runs as a sub-orchestration. */
  readonly parentInstanceId: string | undefined;
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
  /** Runs another orchestration as a child and resolves with its output (or `SubOrchestrationFailedError`). */
  callSubOrchestration<I, O>(
    orchestration: OrchestrationDefinition<I, O>,
    ...args: CallArgs<I, CallSubOrchestrationOptions>
  ): DurableTask<O>;
  /** A durable timer that fires after `duration` ("90s", "2h", "3d" or milliseconds). */
  sleep(duration: Duration): TimerTask;
  /** A durable timer that fires at `fireAt` (at once if that time has passed). */
  sleepUntil(fireAt: Date | number): TimerTask;
  /**
   * Waits for an external event raised with `client.raiseEvent`. Events that arrived earlier
   * are kept and delivered in order; with `timeout`, rejects with `EventTimeoutError`.
   */
  waitForEvent<T = unknown>(name: string, options?: WaitForEventOptions): CancellableTask<T>;
  /** Like Promise.all, for durable tasks. */
  all<T extends readonly PromiseLike<unknown>[]>(tasks: readonly [...T]): Promise<TaskValues<T>>;
  /** Like Promise.race (the first task to finish wins, as history recorded it); losing timers and event waits are cancelled. */
  race<T>(tasks: readonly PromiseLike<T>[]): Promise<T>;
  /** Like Promise.any (the first task to succeed wins); losing timers and event waits are cancelled. */
  any<T>(tasks: readonly PromiseLike<T>[]): Promise<T>;
  /** Publishes a small JSON value in the instance's status (progress, a stage name, …). */
  setCustomStatus(status: unknown): void;
  /**
   * Versioning: true when this code path is new for this instance (it was started, or
   * reached this point, under code that has the patch), false when the instance's history
   * was made by older code. Branch on it to change a running orchestration safely.
   */
  patched(patchId: string): boolean;
  /**
   * Ends this execution and starts the instance again with `input` and a fresh history.
   * Return right after calling it; the rest of this execution is abandoned.
   */
  continueAsNew(input: unknown, options?: ContinueAsNewOptions): void;
  /**
   * Calls an entity operation and resolves with its result, or rejects with
   * `EntityOperationFailedError` (the operation's error as `cause`). Inside a critical
   * section, only the locked entities can be called.
   */
  callEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...input: OperationInputArgs<E, K>
  ): DurableTask<OperationResult<E, K>>;
  /** Sends an entity operation one-way (with `at`: delivered no earlier than then). */
  signalEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...args: OperationArgsWith<E, K, SignalEntityOptions>
  ): void;
  /**
   * Starts a critical section: locks the entities (one at a time, in a fixed order, so that
   * sections cannot deadlock) and resolves once all are held. Until `lock.release()`, no
   * other orchestration's operations run on them, and this orchestration can call only
   * them. Sections cannot be nested.
   */
  lockEntities(...entities: EntityLockTarget[]): DurableTask<EntityLock>;
}
