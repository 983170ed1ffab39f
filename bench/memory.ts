/**
 * Peak resident set size over a scenario. Node cannot reset the process's high-water mark
 * (`resourceUsage().maxRSS`), so RSS is sampled: on a timer, and by the scenario itself in
 * loops that never yield to the timer (the synchronous SQLite baseline).
 */
export class RssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 25) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  /** Stops sampling and returns the peak in MiB. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peak / 2 ** 20;
  }
}

/** Memory at the start of a run and the highest values sampled during it, in MiB. */
export interface MemoryPeaks {
  startRssMiB: number;
  peakRssMiB: number;
  startHeapUsedMiB: number;
  peakHeapUsedMiB: number;
  /** How many times memory was read: a peak between two samples is missed. */
  samples: number;
}

const MiB = 2 ** 20;

/**
 * Peak RSS and V8 `heapUsed` (live objects and garbage not yet collected) over a run: read by
 * `process.memoryUsage()` on a timer and whenever the run calls `sample()`, e.g. after every
 * store commit, because a long synchronous stretch (a replay, a group commit) keeps the
 * timer from firing exactly when memory is highest.
 */
export class MemorySampler {
  private readonly start = process.memoryUsage();
  private peakRss = this.start.rss;
  private peakHeapUsed = this.start.heapUsed;
  private count = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 5) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const { rss, heapUsed } = process.memoryUsage();
    this.count++;
    if (rss > this.peakRss) this.peakRss = rss;
    if (heapUsed > this.peakHeapUsed) this.peakHeapUsed = heapUsed;
  }

  /** Stops sampling (after one last sample) and returns the start values and the peaks. */
  stop(): MemoryPeaks {
    this.sample();
    clearInterval(this.timer);
    return {
      startRssMiB: this.start.rss / MiB,
      peakRssMiB: this.peakRss / MiB,
      startHeapUsedMiB: this.start.heapUsed / MiB,
      peakHeapUsedMiB: this.peakHeapUsed / MiB,
      samples: this.count,
    };
  }
}
