import { isTerminal, type Store } from "../store/store.js";

/**
 * Wakes the clients waiting for instances to finish, when the store (this store object)
 * reports that one did. One store subscription, taken while anyone waits, and a map by
 * instance id: with a subscription per waiter, every finished instance called every
 * waiter's listener (500 waiters in flight: 500 calls per commit).
 */
export class CompletionWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly store: Store) {}

  /** Calls `wake` each time `instanceId` is reported finished, until the returned function is called. */
  watch(instanceId: string, wake: () => void): () => void {
    let wakers = this.waiting.get(instanceId);
    if (!wakers) {
      wakers = new Set();
      this.waiting.set(instanceId, wakers);
    }
    wakers.add(wake);
    this.unsubscribe ??= this.store.subscribe((n) => {
      if (n.kind !== "instance-updated" || !isTerminal(n.status)) return;
      const waiting = this.waiting.get(n.instanceId);
      if (waiting) for (const w of [...waiting]) w();
    });
    return () => {
      const current = this.waiting.get(instanceId);
      current?.delete(wake);
      if (current?.size === 0) this.waiting.delete(instanceId);
      if (this.waiting.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }
}
