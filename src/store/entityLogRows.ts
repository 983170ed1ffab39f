import { ENTITY_OPERATION_LOG_SIZE, type EntityCommit, type EntityOperationRecord } from "./entityStore.js";

// The entity_operations table of both stores (migration 0004) holds one row per committed
// batch that applied something: (entity_name, entity_key, batch, applied_at, entries), where
// batch is the lease token the batch committed under (it only grows) and entries is a JSON
// array of what the batch applied, oldest first. A row per batch rather than per operation:
// 1,000 entities × 10 signals committed together wrote their log 4× faster that way on
// SQLite (1,000 rows of JSON against 10,000 rows of columns). Each commit keeps the newest
// ENTITY_OPERATION_LOG_SIZE rows of its entity: every row holds at least one entry, so the
// newest ENTITY_OPERATION_LOG_SIZE entries are always there.

/** A row of entity_operations as the drivers return it. */
export interface LogRow {
  applied_at: number;
  entries: string;
}

/** A stored entry: a record without its time, which is the row's. */
type StoredEntry = Omit<EntityOperationRecord, "appliedAt">;

/** The entries column of a batch: its last ENTITY_OPERATION_LOG_SIZE records, oldest first. */
export function encodeEntries(records: readonly EntityOperationRecord[]): string {
  return JSON.stringify(
    records.slice(-ENTITY_OPERATION_LOG_SIZE).map(({ appliedAt: _time, ...entry }): StoredEntry => entry),
  );
}

/** Rows newest first to records newest first: at most `limit`, and at most ENTITY_OPERATION_LOG_SIZE. */
export function decodeRows(rows: readonly LogRow[], limit: number): EntityOperationRecord[] {
  const wanted = Math.min(limit, ENTITY_OPERATION_LOG_SIZE);
  const records: EntityOperationRecord[] = [];
  for (const row of rows) {
    const entries = JSON.parse(row.entries) as StoredEntry[];
    for (let i = entries.length - 1; i >= 0 && records.length < wanted; i--) {
      records.push({ ...(entries[i] as StoredEntry), appliedAt: row.applied_at });
    }
    if (records.length >= wanted) break;
  }
  return records;
}

/**
 * Whether an entity's log may hold more than ENTITY_OPERATION_LOG_SIZE rows once this
 * batch's row is in. Every commit advances the entity's lease token by one and each row
 * comes from a distinct earlier commit, so an entity whose token is still at most
 * ENTITY_OPERATION_LOG_SIZE cannot: its prune is skipped (most entities, most batches in
 * a short-lived or sparse workload).
 */
export function mayNeedPrune(c: { leaseToken: number }): boolean {
  return c.leaseToken > ENTITY_OPERATION_LOG_SIZE;
}

/** What an entity's operation log needs of a commit: its entity, its lease token (the row's batch number), its records. */
export type LoggedBatch = Pick<EntityCommit, "name" | "key" | "leaseToken" | "operations" | "now">;

/**
 * The log entries of locks taken away from an orchestration that ended (or was terminated)
 * holding them. Each entry's row is numbered by the lease token its entity had before the
 * release bumped it: no batch committed under that token (a batch's commit moves the token
 * past the one it logs under), and every later batch logs under a higher one.
 */
export function forcedUnlocks(
  released: readonly { name: string; key: string; leaseToken: number }[],
  instanceId: string,
  now: number,
): LoggedBatch[] {
  return released.map(({ name, key, leaseToken }) => ({
    name,
    key,
    leaseToken,
    now,
    operations: [{ kind: "unlock", sender: { kind: "orchestration", instanceId }, appliedAt: now, ok: true }],
  }));
}
