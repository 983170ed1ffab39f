import type { HistoryEvent } from "../../src/index.js";

/** The events of one durable call (one step), as compact strings: "TaskScheduled#1", "TimerCreated", … */
export function stepTrace(history: readonly HistoryEvent[], step: number): string[] {
  return history
    .filter((e) => "step" in e && e.step === step)
    .map((e) =>
      "attempt" in e && e.attempt !== undefined && e.type !== "TimerCreated" ? `${e.type}#${e.attempt}` : e.type,
    );
}

/** The waits of the retry timers recorded in history (fireAt minus the time they were created), in order. */
export function retryDelays(history: readonly HistoryEvent[], step?: number): number[] {
  return history
    .filter((e): e is Extract<HistoryEvent, { type: "TimerCreated" }> => e.type === "TimerCreated")
    .filter((e) => step === undefined || e.step === step)
    .map((e) => e.fireAt - e.timestamp);
}
