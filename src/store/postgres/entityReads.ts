import type { EntityCleanup, EntityOperationLog, EntityPage, EntityQuery, EntityRecord } from "../entityStore.js";
import type { Database, Tx } from "./connection.js";
import { entityLogOperations } from "./entityLog.js";
import { activeExecution, type EntityRow, type EntityTables } from "./entityTables.js";
import type { Tables } from "./instances.js";

/**
 * What clients read of the PostgreSQL store's entities (an entity, a page of them, an
 * entity's operation log) and the upkeep of cleanEntityStorage. The worker's side — messages,
 * claims, batches — is in entities.ts.
 */
export function entityReadOperations(db: Database, t: Tables, e: EntityTables) {
  const active = activeExecution(t);
  const log = entityLogOperations(db, e);
  const sql = {
    get: `SELECT * FROM ${e.entities} WHERE entity_name = $1 AND entity_key = $2`,
    list: `SELECT * FROM ${e.entities}
      WHERE ($1::text IS NULL OR entity_name = $1)
        AND ($2::text IS NULL OR (entity_key >= $2 AND entity_key < $3))
        AND ($4::bool OR has_state)
        AND ($5::text IS NULL OR entity_name > $5 OR (entity_name = $5 AND entity_key > $6))
      ORDER BY entity_name, entity_key LIMIT $7`,
    releaseOrphanedLocks: `UPDATE ${e.entities} SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
      WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities} x
        WHERE x.lock_owner IS NOT NULL AND NOT ${active("x.lock_owner", "x.lock_execution")}
        ORDER BY entity_name, entity_key FOR UPDATE)`,
    dropOrphanedLockRequests: `DELETE FROM ${e.messages} m WHERE m.kind = 'lock'
      AND NOT ${active("m.sender_instance", "m.sender_execution")}`,
    deleteEmpty: `DELETE FROM ${e.entities} WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities} x
        WHERE NOT x.has_state AND x.lock_owner IS NULL AND (x.lease_owner IS NULL OR x.lease_expires_at < $1)
          AND NOT EXISTS (SELECT 1 FROM ${e.messages} m WHERE m.entity_name = x.entity_name AND m.entity_key = x.entity_key)
        ORDER BY entity_name, entity_key FOR UPDATE SKIP LOCKED)`,
  };

  return {
    /** Appends committed batches' entries to their entities' logs (inside the group commit). */
    appendLog: log.append,

    async get(name: string, key: string): Promise<EntityRecord | undefined> {
      const { rows } = await db.query<EntityRow>(sql.get, [name, key]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    getOperations(name: string, key: string, limit: number): Promise<EntityOperationLog> {
      return log.read(name, key, limit);
    },

    async list(query: EntityQuery): Promise<EntityPage> {
      const { rows } = await db.query<EntityRow>(sql.list, [
        query.name ?? null,
        query.keyPrefix || null,
        query.keyPrefix ? `${query.keyPrefix}\u{10ffff}` : null,
        query.includeEmpty === true,
        query.after?.name ?? null,
        query.after?.key ?? null,
        query.limit + 1,
      ]);
      const page: EntityPage = { entities: rows.slice(0, query.limit).map(toRecord) };
      const last = page.entities.at(-1);
      if (rows.length > query.limit && last) page.next = { name: last.name, key: last.key };
      return page;
    },

    async clean(tx: Tx, now: number): Promise<EntityCleanup> {
      const released = await tx.query(sql.releaseOrphanedLocks);
      await tx.query(sql.dropOrphanedLockRequests);
      const removed = await tx.query(sql.deleteEmpty, [now]);
      // Their operation logs go with them; an entity whose state was deleted but that still has a row keeps its log.
      if (removed.rowCount > 0) await log.sweep(tx);
      return { emptyEntitiesRemoved: removed.rowCount, orphanedLocksReleased: released.rowCount };
    },
  };
}

function toRecord(row: EntityRow): EntityRecord {
  const record: EntityRecord = {
    name: row.entity_name,
    key: row.entity_key,
    exists: row.has_state,
    state: row.has_state && row.state !== null ? JSON.parse(row.state) : undefined,
  };
  if (row.last_modified !== null) record.lastModified = row.last_modified;
  if (row.lock_owner !== null) record.lockedBy = row.lock_owner;
  return record;
}
