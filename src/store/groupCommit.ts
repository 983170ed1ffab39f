/**
 * Group commit: requests submitted while the event loop is busy are written together, in
 * one store transaction, on the next turn of the loop. While a flush is in flight, new
 * requests wait for the next one, so a slow store gathers bigger batches by itself.
 */
export class GroupCommit<Request, Result> {
  private queue: { request: Request; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly flushBatch: (requests: Request[]) => Promise<Result[]>,
    private readonly maxBatch = 1_000,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything submitted so far has been written. */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight || this.scheduled) {
      await (this.inFlight ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    try {
      const results = await this.flushBatch(batch.map((item) => item.request));
      batch.forEach((item, i) => {
        item.resolve(results[i] as Result);
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
