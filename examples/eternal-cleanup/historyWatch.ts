import type { Store } from "perdure";
import type { CleanupState, CleanupStatus } from "./orchestration.js";

/** What one iteration looked like from outside. */
export interface IterationView {
  /** The longest the instance's history was during this iteration. */
  maxHistoryLength: number;
  /** Files this iteration's cleanup removed, from its custom status. */
  removed?: number;
}

/**
 * Watches one instance through the store's commit notifications, to show that
 * continue-as-new keeps its history flat: after every commit it records the length of the
 * current execution's history (and its custom status) under the current iteration, read
 * from the execution's input.
 *
 * The notification comes right after the commit, and the SQLite store reads synchronously
 * when called, so each reading is the instance exactly as that commit left it.
 */
export function watchIterations(
  store: Store,
  instanceId: string,
): { iterations: Map<number, IterationView>; stop: () => void } {
  const iterations = new Map<number, IterationView>();
  const stop = store.subscribe((notification) => {
    if (notification.kind !== "instance-updated" || notification.instanceId !== instanceId) return;
    const reading = Promise.all([store.getInstance(instanceId), store.getHistory(instanceId)]);
    void reading.then(([record, history]) => {
      const iteration = (record?.input as CleanupState | undefined)?.iteration;
      if (iteration === undefined) return;
      const view = iterations.get(iteration) ?? { maxHistoryLength: 0 };
      view.maxHistoryLength = Math.max(view.maxHistoryLength, history.length);
      const status = record?.customStatus as CleanupStatus | undefined;
      if (status?.iteration === iteration) view.removed = status.removed;
      iterations.set(iteration, view);
    });
  });
  return { iterations, stop };
}
