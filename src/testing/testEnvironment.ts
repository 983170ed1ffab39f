import { type Client, createClient } from "../client/client.js";
import type { InstanceStatus } from "../client/instanceStatus.js";
import type { AnyEntity } from "../entities/definition.js";
import { InstanceNotFoundError, InvalidArgumentError, TimeoutError } from "../errors/errors.js";
import { type Logger, silentLogger } from "../orchestration/logger.js";
import { sqliteStore } from "../store/sqlite/sqliteStore.js";
import { isTerminal, type Store } from "../store/store.js";
import { type Duration, toMilliseconds } from "../time/duration.js";
import { toEpochMs } from "../time/epoch.js";
import {
  type AnyActivity,
  type AnyOrchestration,
  createControlledWorker,
  type Worker,
  type WorkerControl,
} from "../worker/worker.js";

export interface TestEnvironmentOptions {
  orchestrations?: AnyOrchestration[];
  activities?: AnyActivity[];
  entities?: AnyEntity[];
  /** Where virtual time starts. Default: the real time when the environment is created. */
  startTime?: Date | number;
  /** Where the worker and `ctx.log` write. Default: nowhere. */
  logger?: Logger;
  /** How long (real time) `settle()` waits for running work, such as a slow activity, to finish. Default 30 s. */
  settleTimeoutMs?: number;
}

/** An engine on an in-memory store whose clock moves only when the test moves it. */
export interface TestEnvironment {
  /** A client on the environment's store; it sees virtual time. */
  readonly client: Client;
  readonly worker: Worker;
  readonly store: Store;
  /** The virtual time: what `ctx.now()`, durable timers and the client see. */
  now(): Date;
  /** Resolves once everything that can run at the current virtual time has run. */
  settle(): Promise<void>;
  /**
   * Moves virtual time forward by `duration` (`"24h"`, `90_000`), firing every durable timer
   * (sleeps, event timeouts, retry delays) due on the way in order, and running what each one
   * wakes before the next; resolves when the engine is idle at the new time.
   */
  skipTime(duration: Duration): Promise<void>;
  /**
   * Waits for an instance to finish, skipping virtual time from timer to timer while it waits
   * only on timers. Throws TimeoutError when it waits on something time cannot bring (an
   * event to raise) or its next timer lies more than `maxSkip` (default 365 days) ahead.
   */
  waitForCompletion<I = unknown, O = unknown>(
    instanceId: string,
    options?: { maxSkip?: Duration },
  ): Promise<InstanceStatus<I, O>>;
  /** Stops the worker and closes the store. */
  dispose(): Promise<void>;
}

/**
 * Creates a test environment: a worker for the given definitions and a client, on an
 * in-memory SQLite store, with a virtual clock. An approval that escalates after 24 hours is
 * tested in milliseconds: start it, `skipTime("24h")`, check what happened.
 */
export async function createTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  let current = startOf(options.startTime);
  const clock = (): number => current;
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  if (!Number.isFinite(settleTimeoutMs) || settleTimeoutMs <= 0) {
    throw new InvalidArgumentError(`settleTimeoutMs must be a positive number, got ${settleTimeoutMs}.`);
  }
  const store = sqliteStore(":memory:");
  let worker: Worker & WorkerControl;
  try {
    // Definitions are checked here: a bad one must not leave the store open.
    worker = createControlledWorker({
      store,
      orchestrations: options.orchestrations ?? [],
      activities: options.activities ?? [],
      entities: options.entities ?? [],
      logger: options.logger ?? silentLogger,
      clock,
      handleSignals: false,
    });
    await worker.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  const client = createClient({ store, clock });

  const settle = async (): Promise<void> => {
    const deadline = Date.now() + settleTimeoutMs;
    // Quiet twice in a row, a turn of the event loop apart: a notification in flight
    // (a commit that woke the worker) shows in the second look.
    for (let quiet = 0; quiet < 2; ) {
      await new Promise((resolve) => setImmediate(resolve));
      quiet = (await worker.quiescent()) ? quiet + 1 : 0;
      if (quiet === 0 && Date.now() > deadline) {
        throw new TimeoutError(
          `The engine did not settle within ${settleTimeoutMs} ms: an activity or entity operation is still running.`,
        );
      }
    }
  };

  const moveTo = (time: number): void => {
    current = time;
    worker.wakeUp();
  };

  const nextDue = (): Promise<number | undefined> => store.nextDueTime(current, worker.id);

  return {
    client,
    worker,
    store,
    now: () => new Date(current),
    settle,
    async skipTime(duration) {
      const target = current + toMilliseconds(duration, "skipTime duration");
      for (;;) {
        await settle();
        const due = await nextDue();
        if (due === undefined || due > target) break;
        moveTo(due);
      }
      moveTo(target);
      await settle();
    },
    async waitForCompletion<I, O>(instanceId: string, waitOptions: { maxSkip?: Duration } = {}) {
      const limit = current + toMilliseconds(waitOptions.maxSkip ?? 365 * 24 * 3_600_000, "maxSkip");
      for (;;) {
        await settle();
        const status = await client.getStatus<I, O>(instanceId);
        if (!status) throw new InstanceNotFoundError(instanceId);
        if (isTerminal(status.runtimeStatus)) return status;
        const due = await nextDue();
        if (due === undefined) {
          throw new TimeoutError(
            `Instance "${instanceId}" is ${status.runtimeStatus} and waits on no timer: it needs something time cannot bring, such as an event (client.raiseEvent).`,
            { instanceId },
          );
        }
        if (due > limit) {
          throw new TimeoutError(
            `Instance "${instanceId}" is still ${status.runtimeStatus}; its next timer is at ${new Date(due).toISOString()}, beyond maxSkip.`,
            { instanceId },
          );
        }
        moveTo(due);
      }
    },
    async dispose() {
      await worker.stop();
      await store.close();
    },
  };
}

function startOf(startTime: Date | number | undefined): number {
  if (startTime === undefined) return Date.now();
  if (typeof startTime === "number") {
    if (!Number.isFinite(startTime))
      throw new InvalidArgumentError(`startTime must be a finite number, got ${startTime}.`);
    return startTime;
  }
  return toEpochMs(startTime, "startTime");
}
