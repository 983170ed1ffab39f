/**
 * A worker's activity slots: at most `max` activities run at once, whether the worker's own
 * commits leased them (the fast path) or it claimed them from the store.
 */
export class ActivitySlots {
  private inUse = 0;
  /** Tasks may wait in the store for a free slot: freeing one must wake the poll loop. */
  private starved = false;
  /** Set while a claim holds every free slot; resolves when its answer freed the unused. */
  private claiming: Promise<void> | undefined;

  constructor(
    private readonly max: number,
    private readonly onFreedWhileStarved: () => void,
  ) {}

  /** Takes a slot for the fast path; false at the limit. */
  reserve(): boolean {
    if (this.inUse >= this.max) {
      this.starved = true;
      return false;
    }
    this.inUse++;
    return true;
  }

  release(): void {
    this.inUse--;
    if (this.starved) this.onFreedWhileStarved();
  }

  /** While a claim holds the free slots, a promise that resolves when it has let go of the unused. */
  settled(): Promise<void> | undefined {
    return this.inUse >= this.max ? this.claiming : undefined;
  }

  /**
   * Runs `claim` for as many tasks as there are free slots, holding them all while it is
   * awaited (episodes that finish meanwhile must not take them too, or the worker would run
   * more than its limit), and keeps one per task claimed. A claim that filled every free
   * slot leaves the worker starved: more tasks may be waiting for a slot.
   */
  async claimFree<T>(claim: (free: number) => Promise<T[]>): Promise<T[]> {
    const free = Math.max(0, this.max - this.inUse);
    if (free === 0) {
      this.starved = true;
      return [];
    }
    this.inUse += free;
    let tasks: T[] = [];
    let done = (): void => undefined;
    this.claiming = new Promise((resolve) => {
      done = resolve;
    });
    try {
      tasks = await claim(free);
    } finally {
      this.inUse -= free - tasks.length;
      this.claiming = undefined;
      done();
    }
    this.starved = tasks.length >= free;
    return tasks;
  }
}
