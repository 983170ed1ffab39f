/**
 * The abort signal of one attempt of an activity: aborted when the worker stops, when the
 * attempt runs past its timeout, or when its instance is terminated. Its AbortController is
 * made only when the activity reads `ctx.signal` (or the attempt is aborted before): most
 * activities never look, and a controller and a listener per attempt cost on the hot path.
 */
export class AttemptSignal {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;
  private listening = false;
  private readonly forward = (): void => this.abort(this.worker.reason);

  constructor(
    private readonly worker: AbortSignal,
    readonly instanceId: string,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
      else if (this.worker.aborted) this.forward();
      else {
        this.worker.addEventListener("abort", this.forward, { once: true });
        this.listening = true;
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
    if (this.listening) this.worker.removeEventListener("abort", this.forward);
  }
}

/** The attempts running in a worker, by instance: what a termination of the instance aborts. */
export class RunningAttempts {
  private readonly byInstance = new Map<string, Set<AttemptSignal>>();

  constructor(private readonly worker: AbortSignal) {}

  /** A new attempt for an activity of `instanceId`; call `end` with it when it is over. */
  begin(instanceId: string): AttemptSignal {
    const attempt = new AttemptSignal(this.worker, instanceId);
    let attempts = this.byInstance.get(instanceId);
    if (!attempts) {
      attempts = new Set();
      this.byInstance.set(instanceId, attempts);
    }
    attempts.add(attempt);
    return attempt;
  }

  end(attempt: AttemptSignal): void {
    attempt.dispose();
    const attempts = this.byInstance.get(attempt.instanceId);
    attempts?.delete(attempt);
    if (attempts?.size === 0) this.byInstance.delete(attempt.instanceId);
  }

  /** Aborts every running attempt of the instance with `reason`. */
  abortInstance(instanceId: string, reason: unknown): void {
    for (const attempt of this.byInstance.get(instanceId) ?? []) attempt.abort(reason);
  }
}
