/** Order statistics for benchmark samples. The machine is noisy, so medians, never means. */

/** The p-th percentile (0–100) by nearest rank: a value that was actually observed. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** The median (the 50th percentile, averaging the two middle values of an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median and p99 of latency samples, in the samples' unit. */
export interface LatencySummary {
  median: number;
  p99: number;
}

/** Summarises latency samples. */
export function summarize(values: readonly number[]): LatencySummary {
  return { median: median(values), p99: percentile(values, 99) };
}

/** The element whose `key` is the median of all keys: the "median round" of repeated runs. */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new Error("medianBy needs at least one item");
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  // For an even count take the lower middle: a real round, not an average of two.
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}
