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
