import type { Store } from "../store/store.js";

/**
 * Instances whose last commit failed with an error. Such a commit may still have landed (the
 * connection broke after COMMIT): its activity tasks would then be leased to this worker,
 * which never runs them and renews their leases forever. Their leases and their tasks' are
 * handed back so that any worker claims them, retried until the store takes it.
 */
export class AbandonedLeases {
  private readonly ids = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly workerId: string,
    private readonly onReleased: () => void,
  ) {}

  add(instanceId: string): void {
    this.ids.add(instanceId);
    void this.release();
  }

  /** Hands back what is waiting; if the store is still unreachable, the next call tries again. */
  async release(): Promise<void> {
    if (this.ids.size === 0) return;
    const ids = [...this.ids];
    try {
      await this.store.releaseLeases(this.workerId, ids);
      for (const id of ids) this.ids.delete(id);
      this.onReleased();
    } catch {
      // Housekeeping calls again.
    }
  }
}
