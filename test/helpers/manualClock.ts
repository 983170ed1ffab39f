/** A clock that moves only when the test moves it, so that durable timers fire on demand. */
export interface ManualClock {
  /** The current time in milliseconds; pass it as `clock` to workers and clients. */
  readonly now: () => number;
  set(time: number): void;
  advance(ms: number): void;
}

/** Starts at `start` (a fixed, recognisable instant by default). */
export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let current = start;
  return {
    now: () => current,
    set(time) {
      current = time;
    },
    advance(ms) {
      current += ms;
    },
  };
}
