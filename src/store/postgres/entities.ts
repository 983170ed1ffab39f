import { encode } from "../../history/serialization.js";
import type {
  EntityCleanup,
  EntityCommit,
  EntityCommitResult,
  EntityId,
  EntityMessage,
  EntityPage,
  EntityQuery,
  EntityRecord,
  EntitySnapshot,
  NewEntityMessage,
  ReadyEntity,
} from "../entityStore.js";
import { type EpisodeCommit, type EpisodeCommitResult, isTerminal } from "../store.js";
import { type Database, sendOnly, type Tx } from "./connection.js";
import type { BatchSignal } from "./episodeBatch.js";
import type { InstanceOperations, Tables } from "./instances.js";

/** Qualified names of the entity tables of one store's schema. */
export interface EntityTables {
  entities: string;
  messages: string;
}

export function entityTablesIn(quotedSchema: string): EntityTables {
  return { entities: `${quotedSchema}.entities`, messages: `${quotedSchema}.entity_messages` };
}

interface EntityRow {
  entity_name: string;
  entity_key: string;
  state: string | null;
  has_state: boolean;
  last_modified: number | null;
  lock_owner: string | null;
  lock_execution: string | null;
  lease_token: number;
}

interface MessageRow {
  entity_name: string;
  entity_key: string;
  id: number;
  kind: EntityMessage["kind"];
  operation: string | null;
  input: string | null;
  sender_instance: string | null;
  sender_execution: string | null;
  reply_step: number | null;
  lock_set: string | null;
  visible_at: number;
  sender_active: boolean;
}

/** Thrown to undo a group commit: a batch's messages were consumed by another batch. */
class Fenced extends Error {}

/**
 * The entity tables of the PostgreSQL store, written set-wise: a group commit of many
 * entities' batches costs a fixed number of statements. Rows are locked in (name, key)
 * order, as episode commits lock instances in id order, so concurrent commits cannot
 * deadlock on them.
 */
export function entityOperations(db: Database, t: Tables, e: EntityTables, instances: InstanceOperations) {
  const active = (instance: string, execution: string): string =>
    `EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.instance_id = ${instance} AND i.execution_id = ${execution}
       AND i.status IN ('Pending', 'Running', 'Suspended', 'ContinuedAsNew'))`;
  const sql = {
    // Rows of entities that have none yet, in key order; then the messages, in their order.
    send: `WITH m AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
          $8::int[], $9::text[], $10::bigint[]) WITH ORDINALITY
        AS m(name, key, kind, operation, input, sender_instance, sender_execution, reply_step, lock_set, visible_at, ord)),
      ensured AS (
        INSERT INTO ${e.entities} (entity_name, entity_key)
        SELECT DISTINCT name, key FROM m ORDER BY name, key ON CONFLICT DO NOTHING)
      INSERT INTO ${e.messages} (entity_name, entity_key, kind, operation, input, sender_instance, sender_execution,
        reply_step, lock_set, visible_at)
      SELECT name, key, kind, operation, input, sender_instance, sender_execution, reply_step, lock_set, visible_at
      FROM m ORDER BY ord`,
    findReady: `SELECT e.entity_name AS name, e.entity_key AS key, e.lease_token AS "leaseToken",
        CASE WHEN e.lease_owner = $1 THEN e.lease_expires_at END AS "leasedUntil"
      FROM (SELECT DISTINCT entity_name, entity_key FROM ${e.messages}
            WHERE visible_at <= $2 AND entity_name = ANY($4::text[])) d
      JOIN ${e.entities} e ON e.entity_name = d.entity_name AND e.entity_key = d.entity_key
      WHERE (e.lease_owner IS NULL OR e.lease_owner = $1 OR e.lease_expires_at < $2)
        AND (e.lock_owner IS NULL
             OR NOT ${active("e.lock_owner", "e.lock_execution")}
             OR EXISTS (SELECT 1 FROM ${e.messages} m WHERE m.entity_name = e.entity_name AND m.entity_key = e.entity_key
                        AND m.visible_at <= $2 AND m.sender_instance = e.lock_owner))
      LIMIT $3`,
    // SKIP LOCKED: an entity another transaction is committing or claiming is left for the next poll.
    claim: `UPDATE ${e.entities} x SET lease_owner = $1, lease_expires_at = $3, lease_token = x.lease_token + 1
      FROM (SELECT y.entity_name, y.entity_key FROM ${e.entities} y
            JOIN unnest($4::text[], $5::text[], $6::bigint[]) AS c(name, key, token)
              ON y.entity_name = c.name AND y.entity_key = c.key AND y.lease_token = c.token
            WHERE y.lease_owner IS NULL OR y.lease_owner = $1 OR y.lease_expires_at < $2
            ORDER BY y.entity_name, y.entity_key FOR UPDATE OF y SKIP LOCKED) c
      WHERE x.entity_name = c.entity_name AND x.entity_key = c.entity_key
      RETURNING x.entity_name AS name, x.entity_key AS key, x.lease_token AS "leaseToken"`,
    readEntities: `SELECT e.*, (e.lock_owner IS NOT NULL AND ${active("e.lock_owner", "e.lock_execution")}) AS lock_active
      FROM ${e.entities} e JOIN unnest($1::text[], $2::text[]) AS r(name, key)
        ON e.entity_name = r.name AND e.entity_key = r.key`,
    // $3: per entity, the lock owner whose messages alone apply (NULL: unlocked).
    readMessages: `SELECT m.*, (m.kind <> 'lock' OR ${active("m.sender_instance", "m.sender_execution")}) AS sender_active
      FROM unnest($1::text[], $2::text[], $3::text[]) AS r(name, key, owner)
      CROSS JOIN LATERAL (
        SELECT * FROM ${e.messages} x WHERE x.entity_name = r.name AND x.entity_key = r.key AND x.visible_at <= $4
          AND (r.owner IS NULL OR x.sender_instance = r.owner)
        ORDER BY x.id LIMIT $5) m`,
    fence: `WITH c AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bool[],
          $8::text[], $9::bool[], $10::text[], $11::text[])
        AS c(name, key, token, worker, now, expires, set_state, state, has_state, lock_owner, lock_execution)),
      locked AS (SELECT entity_name, entity_key FROM ${e.entities}
        WHERE (entity_name, entity_key) IN (SELECT name, key FROM c) ORDER BY entity_name, entity_key FOR UPDATE)
      UPDATE ${e.entities} x SET
        state = CASE WHEN c.set_state THEN c.state ELSE x.state END,
        has_state = CASE WHEN c.set_state THEN c.has_state ELSE x.has_state END,
        last_modified = CASE WHEN c.set_state THEN c.now ELSE x.last_modified END,
        lock_owner = c.lock_owner, lock_execution = c.lock_execution,
        lease_owner = c.worker, lease_expires_at = c.expires, lease_token = x.lease_token + 1
      FROM c WHERE x.entity_name = c.name AND x.entity_key = c.key
        AND (x.entity_name, x.entity_key) IN (SELECT entity_name, entity_key FROM locked)
        AND x.lease_token = c.token AND x.lease_owner = c.worker
      RETURNING x.entity_name, x.entity_key`,
    consume: `DELETE FROM ${e.messages} m USING unnest($1::bigint[], $2::text[], $3::text[]) AS d(id, name, key)
      WHERE m.id = d.id AND m.entity_name = d.name AND m.entity_key = d.key RETURNING m.id`,
    replies: `INSERT INTO ${t.inbox} (instance_id, execution_id, visible_at, kind, event)
      SELECT r.instance_id, r.execution_id, r.now, r.kind, r.event
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS r(instance_id, execution_id, now, kind, event)
      WHERE ${active("r.instance_id", "r.execution_id")}`,
    releaseLocksOfExecutions: `UPDATE ${e.entities} SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
      WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities}
        WHERE lock_owner IS NOT NULL AND (lock_owner, lock_execution) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        ORDER BY entity_name, entity_key FOR UPDATE)`,
    dropLockRequestsOfExecutions: `DELETE FROM ${e.messages} WHERE kind = 'lock'
      AND (sender_instance, sender_execution) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    releaseLocksOfInstance: `UPDATE ${e.entities} SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
      WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities} WHERE lock_owner = $1
        ORDER BY entity_name, entity_key FOR UPDATE)`,
    dropLockRequestsOfInstance: `DELETE FROM ${e.messages} WHERE kind = 'lock' AND sender_instance = $1`,
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
    leaseOwners: `SELECT DISTINCT lease_owner FROM ${e.entities} WHERE lease_owner IS NOT NULL`,
    releaseLeases: `UPDATE ${e.entities} SET lease_owner = NULL, lease_expires_at = NULL WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities} WHERE lease_owner = $1 ORDER BY entity_name, entity_key FOR UPDATE)`,
    nextDue: `SELECT LEAST(
        (SELECT MIN(visible_at) FROM ${e.messages} WHERE visible_at > $1),
        (SELECT MIN(lease_expires_at) FROM ${e.entities} WHERE lease_owner <> $2 AND lease_expires_at > $1)) AS due`,
  };

  const operations = {
    /** Queues messages (inside the caller's transaction), creating the rows of new entities. */
    async send(tx: Tx, messages: readonly NewEntityMessage[]): Promise<void> {
      if (messages.length === 0) return;
      await tx.query(sql.send, [
        messages.map((m) => m.name),
        messages.map((m) => m.key),
        messages.map((m) => m.kind),
        messages.map((m) => m.operation ?? null),
        messages.map((m) => encode(m.input, "input")),
        messages.map((m) => m.sender?.instanceId ?? null),
        messages.map((m) => m.sender?.executionId ?? null),
        messages.map((m) => m.replyStep ?? null),
        messages.map((m) => (m.lockSet ? JSON.stringify(m.lockSet) : null)),
        messages.map((m) => m.visibleAt),
      ]);
    },

    async findReady(
      workerId: string,
      now: number,
      limit: number,
      names: string[],
      busy: EntityId[],
    ): Promise<ReadyEntity[]> {
      // Busy entities are left out here rather than in SQL, as on SQLite (see there).
      const skip = new Set(busy.map((b) => JSON.stringify([b.name, b.key])));
      const { rows } = await db.query<ReadyEntity & { leasedUntil: number | null }>(sql.findReady, [
        workerId,
        now,
        limit + skip.size,
        names,
      ]);
      return rows
        .filter((r) => !skip.has(JSON.stringify([r.name, r.key])))
        .slice(0, limit)
        .map(({ name, key, leaseToken, leasedUntil }) =>
          leasedUntil === null || leasedUntil === undefined
            ? { name, key, leaseToken }
            : { name, key, leaseToken, leasedUntil },
        );
    },

    async claim(
      workerId: string,
      entities: readonly ReadyEntity[],
      now: number,
      leaseExpiresAt: number,
    ): Promise<ReadyEntity[]> {
      if (entities.length === 0) return [];
      const { rows } = await db.query<ReadyEntity>(sql.claim, [
        workerId,
        now,
        leaseExpiresAt,
        entities.map((x) => x.name),
        entities.map((x) => x.key),
        entities.map((x) => x.leaseToken),
      ]);
      return rows.map((r) => ({ ...r, leasedUntil: leaseExpiresAt }));
    },

    async read(entities: readonly EntityId[], now: number, maxMessages: number): Promise<EntitySnapshot[]> {
      if (entities.length === 0) return [];
      const found = await db.query<EntityRow & { lock_active: boolean }>(sql.readEntities, [
        entities.map((x) => x.name),
        entities.map((x) => x.key),
      ]);
      const rows = found.rows;
      const owners = rows.map((r) => (r.lock_owner !== null && r.lock_active ? r.lock_owner : null));
      const { rows: messageRows } = await db.query<MessageRow>(sql.readMessages, [
        rows.map((r) => r.entity_name),
        rows.map((r) => r.entity_key),
        owners,
        now,
        maxMessages,
      ]);
      const byEntity = new Map<string, EntityMessage[]>();
      for (const m of messageRows.sort((a, b) => a.id - b.id)) {
        const id = JSON.stringify([m.entity_name, m.entity_key]);
        const list = byEntity.get(id) ?? [];
        list.push(toMessage(m));
        byEntity.set(id, list);
      }
      return rows.map((row, i) => {
        const locked = owners[i] !== null;
        const snapshot: EntitySnapshot = {
          name: row.entity_name,
          key: row.entity_key,
          leaseToken: row.lease_token,
          exists: row.has_state,
          state: row.state === null ? undefined : JSON.parse(row.state),
          orphanedLock: row.lock_owner !== null && !locked,
          messages: byEntity.get(JSON.stringify([row.entity_name, row.entity_key])) ?? [],
        };
        if (row.last_modified !== null) snapshot.lastModified = row.last_modified;
        if (locked) snapshot.lock = { instanceId: row.lock_owner as string, executionId: row.lock_execution as string };
        return snapshot;
      });
    },

    /** Commits batches of distinct entities in one transaction; falls back to one transaction each if one was fenced. */
    async commit(
      commits: readonly EntityCommit[],
      publishWork: (tx: Tx) => Promise<void>,
    ): Promise<{ results: EntityCommitResult[]; work: boolean }> {
      const prepared = commits.map((c) => ({
        commit: c,
        state: c.state?.exists ? encode(c.state.value, "state") : null,
      }));
      const applyAndPublish = async (tx: Tx, batch: typeof prepared) => {
        const written = await apply(tx, batch);
        // Other processes' workers may have replies (instances) or messages (entities) to take now.
        if (written.work) sendOnly(publishWork(tx));
        return written;
      };
      try {
        return await db.transaction((tx) => applyAndPublish(tx, prepared));
      } catch (error) {
        if (!(error instanceof Fenced) || commits.length === 1) {
          if (error instanceof Fenced) return { results: [{ ok: false, reason: "lease-lost" }], work: false };
          throw error;
        }
      }
      const results: EntityCommitResult[] = [];
      let work = false;
      for (const p of prepared) {
        try {
          const one = await db.transaction((tx) => applyAndPublish(tx, [p]));
          results.push(one.results[0] as EntityCommitResult);
          work ||= one.work;
        } catch (error) {
          results.push(
            error instanceof Fenced ? { ok: false, reason: "lease-lost" } : { ok: false, reason: "error", error },
          );
        }
      }
      return { results, work };
    },

    /** Episode hook, inside the episodes' transaction: sends their entity messages; ended executions let go of their locks. */
    async afterEpisodes(
      tx: Tx,
      commits: readonly EpisodeCommit[],
      results: readonly EpisodeCommitResult[],
      signal: BatchSignal,
    ): Promise<void> {
      const committed = commits.filter((_, i) => results[i]?.ok);
      const messages = committed.flatMap((c) => c.entityMessages ?? []);
      if (messages.length > 0) {
        sendOnly(operations.send(tx, messages));
        signal.work = true;
      }
      const ended = committed.filter((c) => isTerminal(c.status) || c.continueAsNew);
      if (ended.length > 0) {
        const columns = [ended.map((c) => c.instanceId), ended.map((c) => c.executionId)];
        sendOnly(tx.query(sql.releaseLocksOfExecutions, columns));
        sendOnly(tx.query(sql.dropLockRequestsOfExecutions, columns));
      }
    },

    /** Termination hook, inside its transaction: the instance's locks go, and its pending lock requests. */
    async releaseLocksOf(tx: Tx, instanceId: string): Promise<void> {
      await tx.query(sql.releaseLocksOfInstance, [instanceId]);
      await tx.query(sql.dropLockRequestsOfInstance, [instanceId]);
    },

    async get(name: string, key: string): Promise<EntityRecord | undefined> {
      const { rows } = await db.query<EntityRow>(sql.get, [name, key]);
      return rows[0] ? toRecord(rows[0]) : undefined;
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
      return { emptyEntitiesRemoved: removed.rowCount, orphanedLocksReleased: released.rowCount };
    },

    async leaseOwners(): Promise<string[]> {
      const { rows } = await db.query<{ lease_owner: string }>(sql.leaseOwners);
      return rows.map((r) => r.lease_owner);
    },

    async releaseLeases(tx: Tx, workerId: string): Promise<boolean> {
      return (await tx.query(sql.releaseLeases, [workerId])).rowCount > 0;
    },

    async nextDueTime(now: number, workerId: string): Promise<number | undefined> {
      const { rows } = await db.query<{ due: number | null }>(sql.nextDue, [now, workerId]);
      return rows[0]?.due ?? undefined;
    },
  };

  /** Writes a group of batches (of distinct entities) and returns a result per batch. */
  async function apply(
    tx: Tx,
    batch: readonly { commit: EntityCommit; state: string | null }[],
  ): Promise<{ results: EntityCommitResult[]; work: boolean }> {
    const cs = batch.map((p) => p.commit);
    const fenced = await tx.query<{ entity_name: string; entity_key: string }>(sql.fence, [
      cs.map((c) => c.name),
      cs.map((c) => c.key),
      cs.map((c) => c.leaseToken),
      cs.map((c) => c.workerId),
      cs.map((c) => c.now),
      cs.map((c) => c.leaseExpiresAt),
      cs.map((c) => c.state !== undefined),
      batch.map((p) => p.state),
      cs.map((c) => c.state?.exists === true),
      cs.map((c) => c.lock?.instanceId ?? null),
      cs.map((c) => c.lock?.executionId ?? null),
    ]);
    const passedIds = new Set(fenced.rows.map((r) => JSON.stringify([r.entity_name, r.entity_key])));
    const seen = new Set<string>();
    const passed = cs.filter((c) => {
      const id = JSON.stringify([c.name, c.key]);
      // Two batches of one entity never share a group (a worker runs one batch per entity at a time).
      const first = !seen.has(id);
      seen.add(id);
      return first && passedIds.has(id);
    });
    const ok = new Set(passed);
    const results: EntityCommitResult[] = cs.map((c) =>
      ok.has(c) ? { ok: true, leaseToken: c.leaseToken + 1 } : { ok: false, reason: "lease-lost" },
    );
    if (passed.length === 0) return { results, work: false };

    const consumed = passed.flatMap((c) => c.consumedMessageIds.map((id) => [id, c.name, c.key]));
    if (consumed.length > 0) {
      const deleted = await tx.query(sql.consume, [
        consumed.map((r) => r[0]),
        consumed.map((r) => r[1]),
        consumed.map((r) => r[2]),
      ]);
      // Every message of a batch is still there, or another batch applied some of them already.
      if (deleted.rowCount !== consumed.length) throw new Fenced();
    }
    const replies = passed.flatMap((c) => c.replies.map((r) => ({ ...r, now: c.now })));
    if (replies.length > 0) {
      sendOnly(
        tx.query(sql.replies, [
          replies.map((r) => r.instanceId),
          replies.map((r) => r.executionId),
          replies.map((r) => r.now),
          replies.map((r) => r.event.type),
          replies.map((r) => JSON.stringify(r.event)),
        ]),
      );
    }
    const messages = passed.flatMap((c) => c.messages);
    sendOnly(operations.send(tx, messages));
    const starts = passed.flatMap((c) => c.newInstances);
    // An instance that exists already is left alone: starting from an operation is idempotent by id.
    if (starts.length > 0) await instances.create(tx, starts);
    return { results, work: replies.length > 0 || messages.length > 0 || starts.length > 0 };
  }

  return operations;
}

export type EntityOperations = ReturnType<typeof entityOperations>;

function toMessage(row: MessageRow): EntityMessage {
  const message: EntityMessage = {
    id: row.id,
    kind: row.kind,
    input: row.input === null ? undefined : JSON.parse(row.input),
    visibleAt: row.visible_at,
    senderActive: row.sender_active,
  };
  if (row.operation !== null) message.operation = row.operation;
  if (row.sender_instance !== null && row.sender_execution !== null) {
    message.sender = { instanceId: row.sender_instance, executionId: row.sender_execution };
  }
  if (row.reply_step !== null) message.replyStep = row.reply_step;
  if (row.lock_set !== null) message.lockSet = JSON.parse(row.lock_set);
  return message;
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
