import type { NewInstance, Store } from "../store/store.js";

/** A worker in this process that may run an instance's first episode as it is started. */
export interface EagerStarter {
  /** The start's outcome, or undefined if this worker cannot take it now. */
  startEagerly(request: NewInstance): Promise<Error | undefined> | undefined;
}

/** Running workers by the store object they use: only a client on that same object hands starts to them. */
const workersByStore = new WeakMap<Store, Set<EagerStarter>>();

/** Makes a running worker available for eager starts; returns the function that withdraws it. */
export function registerLocalWorker(store: Store, worker: EagerStarter): () => void {
  let workers = workersByStore.get(store);
  if (!workers) {
    workers = new Set();
    workersByStore.set(store, workers);
  }
  workers.add(worker);
  return () => workers.delete(worker);
}

/**
 * Hands a start to a worker of this process on the same store that can run it, which creates
 * the instance in the commit of its first episode. Undefined if none can: the caller stores
 * the start for any worker to poll.
 */
export function startOnLocalWorker(store: Store, request: NewInstance): Promise<Error | undefined> | undefined {
  for (const worker of workersByStore.get(store) ?? []) {
    const started = worker.startEagerly(request);
    if (started) return started;
  }
  return undefined;
}
