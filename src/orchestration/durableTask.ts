/**
 * The promise-like value of a durable call. The replay executor settles it from history,
 * and records whether the orchestration awaited it, to tell a durable wait from a wait on
 * something foreign (a non-durable promise), which would never be replayed.
 */
export class DurableTask<T> implements PromiseLike<T> {
  private readonly promise: Promise<T>;
  private resolveWith!: (value: T) => void;
  private rejectWith!: (error: unknown) => void;
  private state: "pending" | "fulfilled" | "rejected" = "pending";
  /** True once something called `then` on it: `await`, Promise.all, … */
  awaited = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveWith = resolve;
      this.rejectWith = reject;
    });
    // A failed call that the orchestration never awaits must not crash the process.
    this.promise.catch(() => undefined);
  }

  get isPending(): boolean {
    return this.state === "pending";
  }

  resolve(value: T): void {
    if (this.state !== "pending") return;
    this.state = "fulfilled";
    this.resolveWith(value);
  }

  reject(error: unknown): void {
    if (this.state !== "pending") return;
    this.state = "rejected";
    this.rejectWith(error);
  }

  // biome-ignore lint/suspicious/noThenProperty: a durable task is awaited like a promise by design.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this.awaited = true;
    return this.promise.then(onfulfilled, onrejected);
  }
}
