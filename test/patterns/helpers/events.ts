import type { HistoryEvent, HistoryEventType } from "perdure";

/** The events of one type, typed. */
export function ofType<T extends HistoryEventType>(
  history: readonly HistoryEvent[],
  type: T,
): Extract<HistoryEvent, { type: T }>[] {
  return history.filter((e): e is Extract<HistoryEvent, { type: T }> => e.type === type);
}

/** How many events of a type the history holds. */
export function countOf(history: readonly HistoryEvent[], type: HistoryEventType): number {
  return ofType(history, type).length;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the promise to reject, but it resolved");
}

/** The error a function throws synchronously (fails the test if it does not). */
export function thrownBy(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the call to throw, but it returned");
}
