/**
 * A gate that activities wait at until the test opens it: a way to hold an instance in
 * Running without depending on time. `open()` lets every present and future waiter pass.
 */
export interface Gate {
  /** Resolves when the gate opens; rejects if `signal` aborts first. */
  wait(signal?: AbortSignal): Promise<void>;
  open(): void;
  /** How many waits have started. */
  readonly arrivals: number;
}

export function gate(): Gate {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrivals = 0;
  return {
    wait(signal) {
      arrivals++;
      if (!signal) return opened;
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(new Error("aborted by worker shutdown"));
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        void opened.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    },
    open: () => release(),
    get arrivals() {
      return arrivals;
    },
  };
}
