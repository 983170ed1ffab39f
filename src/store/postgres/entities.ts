import { encode } from "../../history/serialization.js";
import type {
  EntityCommit,
  EntityId,
  EntityMessage,
  EntitySnapshot,
  NewEntityMessage,
  ReadyEntity,
} from "../entityStore.js";
import { type EpisodeCommit, type EpisodeCommitResult, isTerminal } from "../store.js";
import { type Database, sendOnly, type Tx } from "./connection.js";
import { entityCommitOperations } from "./entityCommit.js";
import { entityReadOperations } from "./entityReads.js";
import { activeExecution, type EntityRow, type EntityTables } from "./entityTables.js";
import type { BatchSignal } from "./episodeBatch.js";
import type { InstanceOperations, Tables } from "./instances.js";

export { type EntityTables, entityTablesIn } from "./entityTables.js";

/**
 * SQL: takes the locks of the entities that `join` (on `x`, an entities row) and `where`
 * select from their holders, in key order (as every statement that locks several entity
 * rows does), and logs an "unlock" by the holder at time `now` for each.
 */
function releaseLocks(e: EntityTables, join: string, now: string, where = "true"): string {
  const entry = `json_build_array(json_build_object('kind', 'unlock', 'ok', true,
    'sender', json_build_object('kind', 'orchestration', 'instanceId', l.lock_owner)))::text`;
  return `WITH locked AS (
      SELECT x.entity_name, x.entity_key, x.lock_owner, ${now} AS now FROM ${e.entities} x ${join}
      WHERE x.lock_owner IS NOT NULL AND ${where}
      ORDER BY x.entity_name, x.entity_key FOR UPDATE OF x),
    released AS (
      UPDATE ${e.entities} x SET lock_owner = NULL, lock_execution = NULL, lease_token = x.lease_token + 1
      FROM locked l WHERE x.entity_name = l.entity_name AND x.entity_key = l.entity_key
      RETURNING x.entity_name, x.entity_key, x.lease_token - 1 AS batch, l.now, ${entry} AS entries)
    INSERT INTO ${e.operations} (entity_name, entity_key, batch, applied_at, entries)
    SELECT entity_name, entity_key, batch, now, entries FROM released`;
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
  sender_entity_name: string | null;
  sender_entity_key: string | null;
  reply_step: number | null;
  lock_set: string | null;
  visible_at: number;
  sender_active: boolean;
}

/**
 * The entity tables of the PostgreSQL store, as workers use them (batch commits are in
 * entityCommit.ts, clients' reads and cleanup in entityReads.ts), written set-wise: a group
 * commit of many entities' batches costs a fixed number of statements. Rows are locked in
 * (name, key) order, as episode commits lock instances in id order, so concurrent commits
 * cannot deadlock on them.
 */
export function entityOperations(db: Database, t: Tables, e: EntityTables, instances: InstanceOperations) {
  const active = activeExecution(t);
  const reads = entityReadOperations(db, t, e);
  const sql = {
    // Rows of entities that have none yet, in key order; then the messages, in their order.
    send: `WITH m AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
          $8::int[], $9::text[], $10::bigint[], $11::text[], $12::text[]) WITH ORDINALITY
        AS m(name, key, kind, operation, input, sender_instance, sender_execution, reply_step, lock_set, visible_at,
          sender_entity_name, sender_entity_key, ord)),
      ensured AS (
        INSERT INTO ${e.entities} (entity_name, entity_key)
        SELECT DISTINCT name, key FROM m ORDER BY name, key ON CONFLICT DO NOTHING)
      INSERT INTO ${e.messages} (entity_name, entity_key, kind, operation, input, sender_instance, sender_execution,
        reply_step, lock_set, visible_at, sender_entity_name, sender_entity_key)
      SELECT name, key, kind, operation, input, sender_instance, sender_execution, reply_step, lock_set, visible_at,
        sender_entity_name, sender_entity_key
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
    // Each lock taken from an ended execution gets an "unlock" entry in its entity's log (see forcedUnlocks).
    releaseLocksOfExecutions: releaseLocks(
      e,
      `JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS r(instance, execution, now)
         ON x.lock_owner = r.instance AND x.lock_execution = r.execution`,
      "r.now",
    ),
    dropLockRequestsOfExecutions: `DELETE FROM ${e.messages} WHERE kind = 'lock'
      AND (sender_instance, sender_execution) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    releaseLocksOfInstance: releaseLocks(e, "", "$2::bigint", "x.lock_owner = $1"),
    dropLockRequestsOfInstance: `DELETE FROM ${e.messages} WHERE kind = 'lock' AND sender_instance = $1`,
    leaseOwners: `SELECT DISTINCT lease_owner FROM ${e.entities} WHERE lease_owner IS NOT NULL`,
    releaseLeases: `UPDATE ${e.entities} SET lease_owner = NULL, lease_expires_at = NULL WHERE (entity_name, entity_key) IN (
        SELECT entity_name, entity_key FROM ${e.entities} WHERE lease_owner = $1 ORDER BY entity_name, entity_key FOR UPDATE)`,
    nextDue: `SELECT LEAST(
        (SELECT MIN(visible_at) FROM ${e.messages} WHERE visible_at > $1),
        (SELECT MIN(lease_expires_at) FROM ${e.entities} WHERE lease_owner <> $2 AND lease_expires_at > $1)) AS due`,
  };

  const operations = {
    get: reads.get,
    getOperations: reads.getOperations,
    list: reads.list,
    clean: reads.clean,
    commit: (commits: readonly EntityCommit[], publishWork: (tx: Tx) => Promise<void>) =>
      batches.commit(commits, publishWork),

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
        messages.map((m) => m.senderEntity?.name ?? null),
        messages.map((m) => m.senderEntity?.key ?? null),
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
        sendOnly(tx.query(sql.releaseLocksOfExecutions, [...columns, ended.map((c) => c.now)]));
        sendOnly(tx.query(sql.dropLockRequestsOfExecutions, columns));
      }
    },

    /** Termination hook, inside its transaction: the instance's locks go, and its pending lock requests. */
    async releaseLocksOf(tx: Tx, instanceId: string, now: number): Promise<void> {
      await tx.query(sql.releaseLocksOfInstance, [instanceId, now]);
      await tx.query(sql.dropLockRequestsOfInstance, [instanceId]);
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

  const batches = entityCommitOperations(db, t, e, {
    send: operations.send,
    createInstances: (tx, starts) => instances.create(tx, starts),
    appendLog: reads.appendLog,
  });
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
  if (row.sender_entity_name !== null && row.sender_entity_key !== null) {
    message.senderEntity = { name: row.sender_entity_name, key: row.sender_entity_key };
  }
  if (row.reply_step !== null) message.replyStep = row.reply_step;
  if (row.lock_set !== null) message.lockSet = JSON.parse(row.lock_set);
  return message;
}
