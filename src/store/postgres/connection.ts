import pg from "pg";
import { StoreUnavailableError } from "../../errors/errors.js";

/** A statement's rows, and how many rows it changed. */
export interface Rows<R> {
  rows: R[];
  rowCount: number;
}

/** What a transaction's body runs its statements through. */
export interface Tx {
  /** `wrote`, as for Database.query: whether a SELECT over data-modifying CTEs changed anything. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    wrote?: (rows: R[]) => boolean,
  ): Promise<Rows<R>>;
  /** Waits for every statement sent so far; throws the first failure. */
  flush(): Promise<void>;
}

/**
 * Leaves a statement of a transaction to run without waiting for its answer here: the
 * transaction waits for it before it reports the commit, and fails if it failed. Statements
 * go out in the order they are sent, so later ones see its effects.
 */
export function sendOnly(statement: Promise<unknown>): void {
  statement.catch(() => undefined);
}

/** SQLSTATEs after which re-running the whole transaction is safe and likely to succeed. */
const RETRYABLE = new Set(["40P01", "40001"]);
/** Socket errors: the server is not there, or the connection to it broke. */
const SOCKET_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EPIPE",
  "EAI_AGAIN",
]);

/** True if `error` means the server cannot be reached or the connection was lost. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (SOCKET_ERRORS.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") {
      return true;
    }
    return false;
  }
  // node-postgres reports a lost or unusable connection with plain errors, without a code.
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection ended/i.test(
    error.message,
  );
}

/**
 * The store's connection pool. Reads run as single statements; writes run in transactions
 * that count as commits only if they changed rows, as `Store.commitCount` asks. Every SQL
 * text gets a prepared-statement name, so PostgreSQL parses and plans it once per connection.
 */
export class Database {
  private readonly names = new Map<string, string>();
  private commits = 0;

  constructor(
    readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  get commitCount(): number {
    return this.commits;
  }

  /** Outside a transaction every statement is awaited where it is sent: nothing to flush. */
  async flush(): Promise<void> {}

  /**
   * One statement outside any transaction (a read, or a write that is one statement).
   * `wrote` tells from its rows whether a statement that is a SELECT over a data-modifying
   * CTE changed anything (else its command decides).
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    wrote?: (rows: R[]) => boolean,
  ): Promise<Rows<R>> {
    try {
      const result = await this.pool.query<R>(this.config(text, values));
      if (wrote ? wrote(result.rows) : changedRows(result)) this.commits++;
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw this.wrap(error);
    }
  }

  /**
   * Runs `body` in one transaction on one connection and commits. Counts a commit if a
   * statement changed rows. A deadlock rolls everything back and runs `body` again, so it
   * must compute its result from the database only.
   */
  async transaction<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(body);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt < 4 && typeof code === "string" && RETRYABLE.has(code)) continue;
        throw this.wrap(error);
      }
    }
  }

  private async transactionOnce<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw this.wrap(error);
    });
    // A checked-out client has no error listener of the pool's: a connection that breaks
    // between statements would otherwise crash the process with an unhandled 'error'.
    let broken: unknown;
    const onError = (error: unknown): void => {
      broken = error;
    };
    client.on("error", onError);
    let wrote = false;
    // The connection pipelines: statements go out without waiting for the previous one's
    // answer. A body awaits only the results it needs; the rest travel with the COMMIT.
    const pending: Promise<unknown>[] = [];
    const tx: Tx = {
      query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = [], changed?: (rows: R[]) => boolean) => {
        const sent = client.query<R>(this.config(text, values)).then((result) => {
          if (changed ? changed(result.rows) : changedRows(result)) wrote = true;
          return { rows: result.rows, rowCount: result.rowCount ?? 0 };
        });
        pending.push(sent);
        sent.catch(() => undefined);
        return sent;
      },
      flush: async () => {
        const settled = await Promise.allSettled(pending.splice(0));
        const failed = settled.find((s) => s.status === "rejected");
        if (failed) throw failed.reason;
      },
    };
    try {
      const begin = client.query("BEGIN");
      pending.push(begin);
      begin.catch(() => undefined);
      const value = await body(tx);
      const commit = client.query("COMMIT");
      commit.catch(() => undefined);
      // A statement that failed aborted the transaction, and the COMMIT then rolled it back.
      await Promise.all(pending);
      await commit;
      if (wrote) this.commits++;
      client.removeListener("error", onError);
      client.release();
      return value;
    } catch (error) {
      await Promise.allSettled(pending);
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken ??= rollbackError;
      });
      client.removeListener("error", onError);
      // A broken connection is destroyed rather than handed to the next caller.
      client.release(broken === undefined ? undefined : (broken as Error));
      throw error;
    }
  }

  /** Turns connection failures into StoreUnavailableError; other errors pass as they are. */
  wrap(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || !isConnectionError(error)) return error;
    return new StoreUnavailableError(this.location, error);
  }

  private config(text: string, values: unknown[]): pg.QueryConfig {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `perdure_${this.names.size + 1}`;
      this.names.set(text, name);
    }
    return { name, text, values };
  }
}

function changedRows(result: pg.QueryResult): boolean {
  const command = result.command;
  return (command === "INSERT" || command === "UPDATE" || command === "DELETE") && (result.rowCount ?? 0) > 0;
}

/** Type parsers of the store's connections: bigint columns (times, ids, tokens) read as numbers. */
export function storeTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  return types;
}
