import { TaskAlreadyAwaitedError } from "../errors/errors.js";

/**
 * The promise-like value of a durable call. The replay executor settles it from history.
 * It records whether anything waits on it (to tell a durable wait from a wait on a foreign
 * promise, which would never be replayed), and refuses a second `await` by user code: a
 * durable result is consumed once; keep it in a variable.
 */
export class DurableTask<T> implements PromiseLike<T> {
  private readonly promise: Promise<T>;
  private resolveWith!: (value: T) => void;
  private rejectWith!: (error: unknown) => void;
  private state: "pending" | "fulfilled" | "rejected" = "pending";
  private value: T | undefined;
  private error: unknown;
  private userAwaited = false;
  /** True once anything waits on it: `await`, Promise.all, ctx.all, … */
  awaited = false;
  /** Called once when the task settles (the executor forgets it then). */
  onSettled: (() => void) | undefined;

  constructor(private readonly description: string) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveWith = resolve;
      this.rejectWith = reject;
    });
    // A failed call that the orchestration never awaits must not crash the process.
    this.promise.catch(() => undefined);
  }

  /** True until the call completes or fails. */
  get isPending(): boolean {
    return this.state === "pending";
  }

  /** True once the call completed successfully. */
  get isCompleted(): boolean {
    return this.state === "fulfilled";
  }

  /** True once the call failed. */
  get isFaulted(): boolean {
    return this.state === "rejected";
  }

  /** The result of a completed call (undefined otherwise); throws the error of a failed one. */
  get result(): T | undefined {
    if (this.state === "rejected") throw this.error;
    return this.value;
  }

  resolve(value: T): void {
    if (this.state !== "pending") return;
    this.state = "fulfilled";
    this.value = value;
    this.resolveWith(value);
    this.onSettled?.();
  }

  reject(error: unknown): void {
    if (this.state !== "pending") return;
    this.state = "rejected";
    this.error = error;
    this.rejectWith(error);
    this.onSettled?.();
  }

  /** Waits on the task from inside Perdure (ctx.all, ctx.race, …): not a user `await`. */
  subscribe(): Promise<T> {
    this.awaited = true;
    return this.promise;
  }

  // biome-ignore lint/suspicious/noThenProperty: a durable task is awaited like a promise by design.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.userAwaited) {
      return Promise.reject(new TaskAlreadyAwaitedError(this.description)).then(onfulfilled, onrejected);
    }
    this.userAwaited = true;
    this.awaited = true;
    return this.promise.then(onfulfilled, onrejected);
  }
}

/**
 * A wait that can be given up: a durable timer or an external-event wait. A cancelled
 * timer never fires; a cancelled event wait takes no event (the next one goes to the next
 * waiter). Its task then never completes.
 */
export class CancellableTask<T> extends DurableTask<T> {
  cancelled = false;
  /** Set by the executor: what cancelling means for the instance's records. */
  cancelHook: (() => void) | undefined;

  /** Gives up the wait if it has not completed yet. */
  cancel(): void {
    if (!this.isPending || this.cancelled) return;
    this.cancelled = true;
    this.cancelHook?.();
  }
}

/** A durable timer (`ctx.sleep`, `ctx.sleepUntil`). */
export class TimerTask extends CancellableTask<void> {}
