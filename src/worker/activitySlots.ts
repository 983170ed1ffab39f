/**
 * A worker's activity slots. At most `max` activities run at once. Beyond that, activities
 * that the worker's own commits scheduled and leased to it wait here, in memory and under its
 * lease, up to `backlog` of them: handing them to the store instead would cost each a claim
 * and a separate result transaction. Activities claimed from the store only take slots free
 * to run now.
 */
export class ActivitySlots {
  /** Activities taken on: running or waiting for a turn. */
  private taken = 0;
  private running = 0;
  private readonly turns: (() => void)[] = [];
  /** Tasks may wait in the store for a free slot: freeing one must wake the poll loop. */
  private starved = false;
  /** Set while a claim holds every free slot; resolves when its answer freed the unused. */
  private claiming: Promise<void> | undefined;

  constructor(
    private readonly max: number,
    private readonly backlog: number,
    private readonly onFreedWhileStarved: () => void,
  ) {}

  /** Takes on an activity for the fast path; false when running and waiting ones are at the limit. */
  reserve(): boolean {
    if (this.taken >= this.max + this.backlog) {
      this.starved = true;
      return false;
    }
    this.taken++;
    return true;
  }

  /** Gives back what `reserve` (or a claim) took, once the activity is done or will not run here. */
  release(): void {
    this.taken--;
    if (this.starved && this.taken < this.max) this.onFreedWhileStarved();
  }

  /** Runs `fn` when one of the `max` slots is free, in the order asked; the slot is held until `fn` settles. */
  async runInTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.turns.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.turns.shift()?.();
    }
  }

  /** While a claim holds the last free capacity, a promise that resolves when it has let go of the unused. */
  settled(): Promise<void> | undefined {
    return this.taken >= this.max + this.backlog ? this.claiming : undefined;
  }

  /**
   * Runs `claim` for as many tasks as can run now, holding that capacity while it is awaited
   * (episodes that finish meanwhile must not take it too), and keeps one per task claimed. A
   * claim that filled every free slot leaves the worker starved: more tasks may be waiting.
   */
  async claimFree<T>(claim: (free: number) => Promise<T[]>): Promise<T[]> {
    const free = Math.max(0, this.max - this.taken);
    if (free === 0) {
      this.starved = true;
      return [];
    }
    this.taken += free;
    let tasks: T[] = [];
    let done = (): void => undefined;
    this.claiming = new Promise((resolve) => {
      done = resolve;
    });
    try {
      tasks = await claim(free);
    } finally {
      this.taken -= free - tasks.length;
      this.claiming = undefined;
      done();
    }
    this.starved = tasks.length >= free;
    return tasks;
  }
}
