/**
 * The abort signal of one attempt of an activity: aborted when the worker stops, when the
 * attempt runs past its timeout, or when its instance is terminated. Its AbortController is
 * made only when the activity reads `ctx.signal` (or the attempt is aborted before): most
 * activities never look, and a controller and a listener per attempt cost on the hot path.
 */
export class AttemptSignal {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;
  /** The listener on the worker's signal, added only once `signal` was read. */
  private forward: (() => void) | undefined;

  constructor(
    private readonly worker: AbortSignal,
    readonly instanceId: string,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
      else if (this.worker.aborted) this.abort(this.worker.reason);
      else {
        this.forward = () => this.abort(this.worker.reason);
        this.worker.addEventListener("abort", this.forward, { once: true });
      }
    }
    return this.controller.signal;
  }

  /** Aborts the attempt's signal (once: the first reason stays). */
  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }

  /** The attempt is over: stop listening to the worker's signal. */
  dispose(): void {
    if (this.forward) this.worker.removeEventListener("abort", this.forward);
  }
}

/**
 * The attempts running in a worker: what a termination of an instance aborts. One flat set:
 * a termination looks through at most the worker's running activities, while a map of sets
 * by instance cost a set and two map writes per attempt on the hot path.
 */
export class RunningAttempts {
  private readonly running = new Set<AttemptSignal>();

  constructor(private readonly worker: AbortSignal) {}

  /** A new attempt for an activity of `instanceId`; call `end` with it when it is over. */
  begin(instanceId: string): AttemptSignal {
    const attempt = new AttemptSignal(this.worker, instanceId);
    this.running.add(attempt);
    return attempt;
  }

  end(attempt: AttemptSignal): void {
    attempt.dispose();
    this.running.delete(attempt);
  }

  /** Aborts every running attempt of the instance with `reason`. */
  abortInstance(instanceId: string, reason: unknown): void {
    for (const attempt of this.running) if (attempt.instanceId === instanceId) attempt.abort(reason);
  }
}
