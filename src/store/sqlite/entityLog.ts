import type Database from "better-sqlite3";
import { decodeRows, encodeEntries, type LoggedBatch, type LogRow, mayNeedPrune } from "../entityLogRows.js";
import { ENTITY_OPERATION_LOG_SIZE, type EntityOperationLog } from "../entityStore.js";

/** Rows per INSERT statement (5 parameters each, far below SQLite's limit of 32,766). */
const ROWS_PER_INSERT = 200;

/**
 * The operation log of the SQLite store's entities (rows described in entityLogRows.ts).
 * A group commit writes the rows of all its committed batches with one INSERT, then prunes
 * each of their entities with one DELETE, after the batches' savepoints and inside the same
 * transaction — a cost per batch, not per operation. Writing the rows outside the
 * savepoints and in multi-row INSERTs cut their cost to a third (1,000 entities' batches:
 * about 6 ms, against 17 ms for a row each inside its batch's savepoint).
 */
export function entityLogOperations(db: Database.Database) {
  // Multi-row INSERTs of up to ROWS_PER_INSERT rows, one statement per row count, prepared
  // when first needed: 3x faster than the same rows read from one JSON parameter.
  const inserts = new Map<number, Database.Statement>();
  const insert = (rows: number): Database.Statement => {
    let statement = inserts.get(rows);
    if (!statement) {
      const values = Array(rows).fill("(?, ?, ?, ?, ?)").join(", ");
      statement = db.prepare(
        `INSERT INTO entity_operations (entity_name, entity_key, batch, applied_at, entries) VALUES ${values}`,
      );
      inserts.set(rows, statement);
    }
    return statement;
  };
  // Deletes every row older than the entity's newest @keep (nothing while it has fewer).
  const prune = db.prepare(
    `DELETE FROM entity_operations WHERE entity_name = @name AND entity_key = @key
       AND batch <= (SELECT batch FROM entity_operations WHERE entity_name = @name AND entity_key = @key
                     ORDER BY batch DESC LIMIT 1 OFFSET @keep)`,
  );
  const newest = db.prepare<[string, string, number], LogRow>(
    `SELECT applied_at, entries FROM entity_operations WHERE entity_name = ? AND entity_key = ?
     ORDER BY batch DESC LIMIT ?`,
  );
  const pending = db
    .prepare<[string, string], number>(
      "SELECT COUNT(*) FROM entity_messages WHERE entity_name = ? AND entity_key = ? AND kind = 'operation'",
    )
    .pluck();
  const sweep = db.prepare(
    `DELETE FROM entity_operations WHERE NOT EXISTS (SELECT 1 FROM entities e
       WHERE e.entity_name = entity_operations.entity_name AND e.entity_key = entity_operations.entity_key)`,
  );

  const read = db.transaction((name: string, key: string, limit: number): EntityOperationLog => {
    // Each row holds at least one entry: `limit` rows are enough.
    const rows = newest.all(name, key, Math.min(limit, ENTITY_OPERATION_LOG_SIZE));
    return { operations: decodeRows(rows, limit), pending: pending.get(name, key) ?? 0 };
  });

  return {
    /** Appends the entries of committed batches (of distinct entities) and prunes their entities' logs. */
    append(committed: readonly LoggedBatch[]): void {
      const logged = committed.filter((c) => c.operations && c.operations.length > 0);
      if (logged.length === 0) return;
      for (let i = 0; i < logged.length; i += ROWS_PER_INSERT) {
        const chunk = logged.slice(i, i + ROWS_PER_INSERT);
        insert(chunk.length).run(
          chunk.flatMap((c) => [
            c.name,
            c.key,
            c.leaseToken,
            c.operations?.at(-1)?.appliedAt ?? c.now,
            encodeEntries(c.operations ?? []),
          ]),
        );
      }
      for (const c of logged) {
        if (mayNeedPrune(c)) prune.run({ name: c.name, key: c.key, keep: ENTITY_OPERATION_LOG_SIZE });
      }
    },

    /** The newest entries, and the operations waiting, read in one transaction. */
    read(name: string, key: string, limit: number): EntityOperationLog {
      return read(name, key, limit);
    },

    /** Deletes the logs of entities that have no row any more (after cleanEntityStorage removed them). */
    sweep(): void {
      sweep.run();
    },
  };
}
