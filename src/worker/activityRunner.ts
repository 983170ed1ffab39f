import { setTimeout as delay } from "node:timers/promises";
import type { ActivityDefinition } from "../definitions/activity.js";
import { ActivityCancelledError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import type { ActivityTask, Store } from "../store/store.js";
import { RunningAttempts } from "./activityAttempts.js";
import { type ActivityOutcomeEvent, executeActivity } from "./activityExecution.js";
import type { ActivitySlots } from "./activitySlots.js";
import type { InstanceRunner } from "./instanceRunner.js";
import { ResultDelivery } from "./resultDelivery.js";

/** What the activity runner needs of its worker. */
export interface ActivityHost {
  readonly store: Store;
  readonly logger: Logger;
  now(): number;
  activity(name: string): ActivityDefinition<unknown, unknown> | undefined;
  /** The runner that holds the instance in this worker, if any: a fast-path result goes to it. */
  runnerOf(instanceId: string): InstanceRunner | undefined;
  stopped(): boolean;
}

/**
 * The activities a worker runs: each in its turn of the worker's slots, with an abort signal
 * per attempt, its result handed to the instance's runner (the fast path) or delivered to the
 * store; and, at shutdown, the wait for them.
 */
export class ActivityRunner {
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly attempts = new RunningAttempts(this.abort.signal);
  private readonly results: ResultDelivery;

  constructor(
    private readonly host: ActivityHost,
    private readonly slots: ActivitySlots,
  ) {
    this.results = new ResultDelivery(
      host.store,
      () => host.now(),
      host.logger,
      () => host.stopped(),
    );
  }

  /** Activities started and not finished (waiting for a slot included). */
  get count(): number {
    return this.running.size;
  }

  /** Runs a task; `origin` is the runner whose commit leased it here (the fast path), if any. */
  run(task: ActivityTask, origin?: InstanceRunner): void {
    const work = this.execute(task, origin);
    this.running.add(work);
    work.finally(() => this.running.delete(work));
  }

  /** The instance was terminated: its running activities' results would be dropped. */
  cancelInstance(instanceId: string): void {
    this.attempts.abortInstance(instanceId, new ActivityCancelledError(instanceId));
  }

  /**
   * Waits for the running activities, up to `timeoutMs`; then aborts their signals and leaves
   * them to run again elsewhere. Results still being delivered: see `idle`.
   */
  async stop(timeoutMs: number): Promise<void> {
    const finished = Promise.all([...this.running]);
    const timedOut = await Promise.race([finished.then(() => false), delay(timeoutMs, true, { ref: false })]);
    if (timedOut) {
      this.host.logger.warn(
        `[perdure] stopping with ${this.running.size} activities still running; they will run again elsewhere`,
      );
      this.abort.abort();
    }
  }

  /** Resolves when no result delivery is in flight. */
  idle(): Promise<void> {
    return this.results.idle();
  }

  /**
   * Its turn lasts until its result is recorded, so that a crash loses (and a restart runs
   * again) at most maxConcurrentActivities activities of this worker.
   */
  private async execute(task: ActivityTask, origin: InstanceRunner | undefined): Promise<void> {
    try {
      await this.slots.runInTurn(async () => {
        // Stopped before its turn came: it stays leased to this worker until stop() hands it back.
        if (this.abort.signal.aborted) return;
        const attempt = this.attempts.begin(task.instanceId);
        let event: ActivityOutcomeEvent;
        try {
          event = await executeActivity(this.host.activity(task.name), task, attempt, () => this.host.now());
        } finally {
          this.attempts.end(attempt);
        }
        const owner = origin ?? this.host.runnerOf(task.instanceId);
        if (owner && !owner.closed && owner.owned && owner.executionId === task.executionId) {
          // Fast path: the result and the orchestration's next step in one commit.
          const recorded = await owner.processLocalResult(task.id, event).catch(() => false);
          if (recorded) return;
        }
        await this.results.deliver(task, event);
      });
    } finally {
      this.slots.release();
    }
  }
}
