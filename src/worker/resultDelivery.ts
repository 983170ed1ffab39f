import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../orchestration/logger.js";
import { GroupCommit } from "../store/groupCommit.js";
import type { ActivityResultDelivery, ActivityTask, Store } from "../store/store.js";
import type { ActivityOutcomeEvent } from "./activityExecution.js";

/**
 * Sends activity results to their instances' inboxes, when the instance is not this
 * worker's to advance: results that arrive together share a transaction.
 */
export class ResultDelivery {
  private readonly batches: GroupCommit<ActivityResultDelivery, boolean>;

  constructor(
    store: Store,
    now: () => number,
    private readonly logger: Logger,
    private readonly stopped: () => boolean,
  ) {
    this.batches = new GroupCommit((batch) => store.deliverActivityResults(batch, now()));
  }

  /**
   * Retried while the store fails: giving up would leave the task leased to this live
   * worker, which renews its leases, so nobody would ever run it again.
   */
  async deliver(task: ActivityTask, event: ActivityOutcomeEvent): Promise<void> {
    const { id: taskId, leaseToken, instanceId, executionId } = task;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.batches.submit({ taskId, leaseToken, instanceId, executionId, event });
        return;
      } catch (error) {
        if (this.stopped() || attempt >= 10) {
          this.logger.error(
            `[perdure] could not record activity "${task.name}" of ${instanceId}; it will run again`,
            error,
          );
          return;
        }
        await delay(Math.min(100 * 2 ** attempt, 5_000), undefined, { ref: false });
      }
    }
  }

  /** Resolves when no delivery is in flight. */
  idle(): Promise<void> {
    return this.batches.idle();
  }
}
