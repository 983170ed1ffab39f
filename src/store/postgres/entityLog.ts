import { decodeRows, encodeEntries, type LogRow, mayNeedPrune } from "../entityLogRows.js";
import { ENTITY_OPERATION_LOG_SIZE, type EntityCommit, type EntityOperationLog } from "../entityStore.js";
import { type Database, sendOnly, type Tx } from "./connection.js";
import type { EntityTables } from "./entityTables.js";

/**
 * The operation log of the PostgreSQL store's entities (rows described in
 * entityLogRows.ts), written set-wise like the rest of a group commit: one INSERT of a row
 * per committed batch and one DELETE that prunes each of those entities to its newest
 * ENTITY_OPERATION_LOG_SIZE rows — two statements per group commit, whatever the number of
 * operations or entities.
 */
export function entityLogOperations(db: Database, e: EntityTables) {
  const sql = {
    append: `INSERT INTO ${e.operations} (entity_name, entity_key, batch, applied_at, entries)
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])`,
    // Per entity, its (keep + 1)-th newest row: it and every older row go.
    prune: `DELETE FROM ${e.operations} o USING (
        SELECT r.name, r.key, (SELECT x.batch FROM ${e.operations} x WHERE x.entity_name = r.name AND x.entity_key = r.key
                               ORDER BY x.batch DESC LIMIT 1 OFFSET $3) AS cutoff
        FROM unnest($1::text[], $2::text[]) AS r(name, key)) c
      WHERE o.entity_name = c.name AND o.entity_key = c.key AND o.batch <= c.cutoff`,
    newest: `SELECT applied_at, entries FROM ${e.operations} WHERE entity_name = $1 AND entity_key = $2
      ORDER BY batch DESC LIMIT $3`,
    pending: `SELECT COUNT(*)::int AS n FROM ${e.messages} WHERE entity_name = $1 AND entity_key = $2 AND kind = 'operation'`,
    sweep: `DELETE FROM ${e.operations} o WHERE NOT EXISTS (SELECT 1 FROM ${e.entities} x
        WHERE x.entity_name = o.entity_name AND x.entity_key = o.entity_key)`,
  };

  return {
    /** Appends the rows of committed batches and prunes their entities' logs (pipelined, inside the commit). */
    append(tx: Tx, commits: readonly EntityCommit[]): void {
      const logged = commits.filter((c) => c.operations && c.operations.length > 0);
      if (logged.length === 0) return;
      sendOnly(
        tx.query(sql.append, [
          logged.map((c) => c.name),
          logged.map((c) => c.key),
          logged.map((c) => c.leaseToken),
          logged.map((c) => c.operations?.at(-1)?.appliedAt ?? c.now),
          logged.map((c) => encodeEntries(c.operations ?? [])),
        ]),
      );
      const full = logged.filter(mayNeedPrune);
      if (full.length > 0) {
        sendOnly(tx.query(sql.prune, [full.map((c) => c.name), full.map((c) => c.key), ENTITY_OPERATION_LOG_SIZE]));
      }
    },

    /** The newest entries and the operations waiting (two reads: for display, not one snapshot). */
    async read(name: string, key: string, limit: number): Promise<EntityOperationLog> {
      const [{ rows }, count] = await Promise.all([
        // Each row holds at least one entry: `limit` rows are enough.
        db.query<LogRow>(sql.newest, [name, key, Math.min(limit, ENTITY_OPERATION_LOG_SIZE)]),
        db.query<{ n: number }>(sql.pending, [name, key]),
      ]);
      return { operations: decodeRows(rows, limit), pending: count.rows[0]?.n ?? 0 };
    },

    /** Deletes the logs of entities that have no row any more (inside cleanEntityStorage's transaction). */
    async sweep(tx: Tx): Promise<void> {
      await tx.query(sql.sweep);
    },
  };
}
