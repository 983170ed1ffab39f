import type Database from "better-sqlite3";
import { StoreClosedError } from "../../errors/errors.js";

/**
 * Reads asked for in the same turn of the event loop share one read transaction. Each read on
 * its own takes and drops the WAL read lock (four fcntl calls, ~10 us on a virtual machine);
 * clients waiting for many instances read in bursts (a group commit finishes hundreds at
 * once), and a burst then locks once.
 */
export class ReadBatch {
  private queue: { read: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  /** Runs a function in one DEFERRED transaction: with reads only, a read transaction. */
  private readonly inOneTransaction: (fn: () => void) => void;

  constructor(private readonly db: Database.Database) {
    this.inOneTransaction = db.transaction((fn: () => void) => fn()).deferred;
  }

  /** Runs `read` with the others asked for before the current turn's microtasks end. */
  run<T>(read: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ read, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    // The store closed after the reads were asked for.
    if (!this.db.open) {
      for (const item of batch) item.reject(new StoreClosedError());
      return;
    }
    const readAll = (): void => {
      for (const item of batch) {
        try {
          item.resolve(item.read());
        } catch (error) {
          item.reject(error);
        }
      }
    };
    // A lone read needs no transaction of its own: the statement is one.
    if (batch.length === 1) readAll();
    else this.inOneTransaction(readAll);
  }
}
