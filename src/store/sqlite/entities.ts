import type Database from "better-sqlite3";
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
import type { EpisodeCommit, EpisodeCommitResult } from "../store.js";
import { entityLockOperations } from "./entityLocks.js";
import { entityLogOperations } from "./entityLog.js";
import type { InstanceOperations } from "./instances.js";

/** SQL: the orchestration execution (instance_id, execution_id given by the caller's columns) is still active. */
const activeExecution = (instanceColumn: string, executionColumn: string): string =>
  `EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = ${instanceColumn} AND i.execution_id = ${executionColumn}
     AND i.status IN ('Pending', 'Running', 'Suspended', 'ContinuedAsNew'))`;

interface EntityRow {
  entity_name: string;
  entity_key: string;
  state: string | null;
  has_state: number;
  last_modified: number | null;
  lock_owner: string | null;
  lock_execution: string | null;
  lease_token: number;
}

interface MessageRow {
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
  sender_active: number;
}

/** Thrown inside a batch's savepoint to undo it: its messages were consumed by someone else. */
class Fenced extends Error {}

/**
 * The entity tables of the SQLite store: messages in, batches committed whole under the
 * entity's lease token, and the hooks by which orchestration commits and termination send
 * messages and release locks. Each write runs inside the caller's transaction.
 */
export function entityOperations(db: Database.Database, instances: InstanceOperations) {
  const log = entityLogOperations(db);
  const locks = entityLockOperations(db, log);
  const ensureEntity = db.prepare(
    "INSERT INTO entities (entity_name, entity_key) VALUES (?, ?) ON CONFLICT (entity_name, entity_key) DO NOTHING",
  );
  const insertMessage = db.prepare(
    `INSERT INTO entity_messages (entity_name, entity_key, kind, operation, input, sender_instance, sender_execution,
       sender_entity_name, sender_entity_key, reply_step, lock_set, visible_at)
     VALUES (@name, @key, @kind, @operation, @input, @senderInstance, @senderExecution, @senderEntityName,
       @senderEntityKey, @replyStep, @lockSet, @visibleAt)`,
  );
  const findReady = db.prepare<Record<string, unknown>, ReadyEntity & { leasedUntil: number | null }>(
    `SELECT e.entity_name AS name, e.entity_key AS key, e.lease_token AS leaseToken,
       CASE WHEN e.lease_owner = @workerId THEN e.lease_expires_at END AS leasedUntil
     FROM (SELECT DISTINCT entity_name, entity_key FROM entity_messages
           WHERE visible_at <= @now AND entity_name IN (SELECT value FROM json_each(@names))) d
     JOIN entities e ON e.entity_name = d.entity_name AND e.entity_key = d.entity_key
     WHERE (e.lease_owner IS NULL OR e.lease_owner = @workerId OR e.lease_expires_at < @now)
       AND (e.lock_owner IS NULL
            OR NOT ${activeExecution("e.lock_owner", "e.lock_execution")}
            OR EXISTS (SELECT 1 FROM entity_messages m WHERE m.entity_name = e.entity_name AND m.entity_key = e.entity_key
                       AND m.visible_at <= @now AND m.sender_instance = e.lock_owner))
     LIMIT @limit`,
  );
  const claim = db.prepare<Record<string, unknown>, { leaseToken: number }>(
    `UPDATE entities SET lease_owner = @workerId, lease_expires_at = @leaseExpiresAt, lease_token = lease_token + 1
     WHERE entity_name = @name AND entity_key = @key AND lease_token = @leaseToken
       AND (lease_owner IS NULL OR lease_owner = @workerId OR lease_expires_at < @now)
     RETURNING lease_token AS leaseToken`,
  );
  const selectEntity = db.prepare<[string, string], EntityRow & { lock_active: number }>(
    `SELECT e.*, CASE WHEN e.lock_owner IS NULL THEN 0 ELSE ${activeExecution("e.lock_owner", "e.lock_execution")} END
       AS lock_active
     FROM entities e WHERE e.entity_name = ? AND e.entity_key = ?`,
  );
  const selectMessages = db.prepare<Record<string, unknown>, MessageRow>(
    `SELECT m.*, CASE WHEN m.kind = 'lock' THEN ${activeExecution("m.sender_instance", "m.sender_execution")} ELSE 1 END
       AS sender_active
     FROM entity_messages m
     WHERE m.entity_name = @name AND m.entity_key = @key AND m.visible_at <= @now
       AND (@owner IS NULL OR m.sender_instance = @owner)
     ORDER BY m.id LIMIT @limit`,
  );
  const fence = db.prepare(
    `UPDATE entities SET
       state = CASE WHEN @setState THEN @state ELSE state END,
       has_state = CASE WHEN @setState THEN @hasState ELSE has_state END,
       last_modified = CASE WHEN @setState THEN @now ELSE last_modified END,
       lock_owner = @lockOwner, lock_execution = @lockExecution,
       lease_owner = @workerId, lease_expires_at = @leaseExpiresAt, lease_token = lease_token + 1
     WHERE entity_name = @name AND entity_key = @key AND lease_token = @leaseToken AND lease_owner = @workerId`,
  );
  const consume = db.prepare("DELETE FROM entity_messages WHERE id = ? AND entity_name = ? AND entity_key = ?");
  const insertReply = db.prepare(
    `INSERT INTO inbox (instance_id, execution_id, visible_at, event)
     SELECT @instanceId, @executionId, @now, @event WHERE ${activeExecution("@instanceId", "@executionId")}`,
  );
  const selectRecord = db.prepare<[string, string], EntityRow>(
    "SELECT * FROM entities WHERE entity_name = ? AND entity_key = ?",
  );
  const list = db.prepare<Record<string, unknown>, EntityRow>(
    `SELECT * FROM entities
     WHERE (@name IS NULL OR entity_name = @name)
       AND (@prefix IS NULL OR (entity_key >= @prefix AND entity_key < @prefixEnd))
       AND (@includeEmpty OR has_state = 1)
       AND (@afterName IS NULL OR entity_name > @afterName OR (entity_name = @afterName AND entity_key > @afterKey))
     ORDER BY entity_name, entity_key LIMIT @limit`,
  );
  const releaseOrphanedLocks = db.prepare(
    `UPDATE entities SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
     WHERE lock_owner IS NOT NULL AND NOT ${activeExecution("lock_owner", "lock_execution")}`,
  );
  const dropOrphanedLockRequests = db.prepare(
    `DELETE FROM entity_messages WHERE kind = 'lock' AND NOT ${activeExecution("sender_instance", "sender_execution")}`,
  );
  const deleteEmpty = db.prepare(
    `DELETE FROM entities WHERE has_state = 0 AND lock_owner IS NULL
       AND (lease_owner IS NULL OR lease_expires_at < @now)
       AND NOT EXISTS (SELECT 1 FROM entity_messages m
                       WHERE m.entity_name = entities.entity_name AND m.entity_key = entities.entity_key)`,
  );
  const leaseOwners = db
    .prepare<[], string>("SELECT DISTINCT lease_owner FROM entities WHERE lease_owner IS NOT NULL")
    .pluck();
  const releaseLeases = db.prepare(
    "UPDATE entities SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
  );
  const nextDue = db
    .prepare<{ now: number; workerId: string }, number | null>(
      `SELECT MIN(t) FROM (
         SELECT MIN(visible_at) AS t FROM entity_messages WHERE visible_at > @now
         UNION ALL SELECT MIN(lease_expires_at) FROM entities WHERE lease_owner <> @workerId AND lease_expires_at > @now)`,
    )
    .pluck();

  const operations = {
    /** Queues messages, creating the rows of entities that have none yet. */
    send(messages: readonly NewEntityMessage[]): void {
      for (const m of messages) {
        ensureEntity.run(m.name, m.key);
        insertMessage.run({
          name: m.name,
          key: m.key,
          kind: m.kind,
          operation: m.operation ?? null,
          input: encode(m.input, "input"),
          senderInstance: m.sender?.instanceId ?? null,
          senderExecution: m.sender?.executionId ?? null,
          senderEntityName: m.senderEntity?.name ?? null,
          senderEntityKey: m.senderEntity?.key ?? null,
          replyStep: m.replyStep ?? null,
          lockSet: m.lockSet ? JSON.stringify(m.lockSet) : null,
          visibleAt: m.visibleAt,
        });
      }
    },

    findReady(workerId: string, now: number, limit: number, names: string[], busy: EntityId[]): ReadyEntity[] {
      // Busy entities are left out here rather than in SQL: a worker may have a thousand
      // batches in flight, and a NOT EXISTS over them per candidate row cost 100 ms a poll.
      const skip = new Set(busy.map((b) => JSON.stringify([b.name, b.key])));
      const rows = findReady
        .all({ workerId, now, limit: limit + skip.size, names: JSON.stringify(names) })
        .filter((r) => !skip.has(JSON.stringify([r.name, r.key])))
        .slice(0, limit);
      return rows.map(({ name, key, leaseToken, leasedUntil }) =>
        leasedUntil === null || leasedUntil === undefined
          ? { name, key, leaseToken }
          : { name, key, leaseToken, leasedUntil },
      );
    },

    /** Takes the leases (inside the caller's transaction); returns the entities taken. */
    claim(workerId: string, entities: readonly ReadyEntity[], now: number, leaseExpiresAt: number): ReadyEntity[] {
      const claimed: ReadyEntity[] = [];
      for (const { name, key, leaseToken } of entities) {
        const row = claim.get({ workerId, name, key, leaseToken, now, leaseExpiresAt });
        if (row) claimed.push({ name, key, leaseToken: row.leaseToken, leasedUntil: leaseExpiresAt });
      }
      return claimed;
    },

    /** Reads each entity and its applicable messages in one read transaction (a consistent view). */
    read(entities: readonly EntityId[], now: number, maxMessages: number): EntitySnapshot[] {
      return readInTransaction(entities, now, maxMessages);
    },

    /**
     * Commits each batch in its own savepoint, so that one refused batch does not undo the
     * others, then the operation log of those committed (in the caller's transaction).
     */
    commit(commits: readonly EntityCommit[]): EntityCommitResult[] {
      const results = commits.map((c): EntityCommitResult => {
        try {
          return commitInSavepoint(c);
        } catch (error) {
          if (error instanceof Fenced) return { ok: false, reason: "lease-lost" };
          return { ok: false, reason: "error", error };
        }
      });
      log.append(commits.filter((_, i) => results[i]?.ok));
      return results;
    },

    /** Episode hook: sends the entity messages of committed episodes; ended executions let go of their locks. */
    afterEpisodes(commits: readonly EpisodeCommit[], results: readonly EpisodeCommitResult[]): boolean {
      const committed = commits.filter((_, i) => results[i]?.ok);
      const messages = committed.flatMap((c) => c.entityMessages ?? []);
      if (messages.length > 0) operations.send(messages);
      locks.releaseEnded(committed);
      return messages.length > 0;
    },

    /** Termination hook: the instance's locks go, and so do its pending lock requests. */
    releaseLocksOf: locks.releaseOf,

    get(name: string, key: string): EntityRecord | undefined {
      const row = selectRecord.get(name, key);
      return row ? toRecord(row) : undefined;
    },

    getOperations: log.read,

    list(query: EntityQuery): EntityPage {
      const rows = list.all({
        name: query.name ?? null,
        prefix: query.keyPrefix || null,
        prefixEnd: query.keyPrefix ? `${query.keyPrefix}\u{10ffff}` : null,
        includeEmpty: query.includeEmpty ? 1 : 0,
        afterName: query.after?.name ?? null,
        afterKey: query.after?.key ?? null,
        limit: query.limit + 1,
      });
      const page: EntityPage = { entities: rows.slice(0, query.limit).map(toRecord) };
      const last = page.entities.at(-1);
      if (rows.length > query.limit && last) page.next = { name: last.name, key: last.key };
      return page;
    },

    clean(now: number): EntityCleanup {
      const orphanedLocksReleased = releaseOrphanedLocks.run().changes;
      dropOrphanedLockRequests.run();
      const emptyEntitiesRemoved = deleteEmpty.run({ now }).changes;
      // Their operation logs go with them; an entity whose state was deleted but that still has a row keeps its log.
      if (emptyEntitiesRemoved > 0) log.sweep();
      return { emptyEntitiesRemoved, orphanedLocksReleased };
    },

    leaseOwners(): string[] {
      return leaseOwners.all();
    },

    releaseLeases(workerId: string): void {
      releaseLeases.run(workerId);
    },

    nextDueTime(now: number, workerId: string): number | undefined {
      const due = nextDue.get({ now, workerId });
      return due === null || due === undefined ? undefined : due;
    },
  };

  const readInTransaction = db.transaction(
    (entities: readonly EntityId[], now: number, maxMessages: number): EntitySnapshot[] => {
      const snapshots: EntitySnapshot[] = [];
      for (const { name, key } of entities) {
        const row = selectEntity.get(name, key);
        if (!row) continue;
        const locked = row.lock_owner !== null && row.lock_active === 1;
        const snapshot: EntitySnapshot = {
          name,
          key,
          leaseToken: row.lease_token,
          exists: row.has_state === 1,
          state: row.state === null ? undefined : JSON.parse(row.state),
          orphanedLock: row.lock_owner !== null && !locked,
          messages: selectMessages
            .all({ name, key, now, owner: locked ? row.lock_owner : null, limit: maxMessages })
            .map(toMessage),
        };
        if (row.last_modified !== null) snapshot.lastModified = row.last_modified;
        if (locked) snapshot.lock = { instanceId: row.lock_owner as string, executionId: row.lock_execution as string };
        snapshots.push(snapshot);
      }
      return snapshots;
    },
  );

  const commitInSavepoint = db.transaction((c: EntityCommit): EntityCommitResult => {
    const changed = fence.run({
      name: c.name,
      key: c.key,
      setState: c.state ? 1 : 0,
      state: c.state?.exists ? encode(c.state.value, "state") : null,
      hasState: c.state?.exists ? 1 : 0,
      lockOwner: c.lock?.instanceId ?? null,
      lockExecution: c.lock?.executionId ?? null,
      workerId: c.workerId,
      leaseExpiresAt: c.leaseExpiresAt,
      leaseToken: c.leaseToken,
      now: c.now,
    }).changes;
    if (changed === 0) return { ok: false, reason: "lease-lost" };
    let consumed = 0;
    for (const id of c.consumedMessageIds) consumed += consume.run(id, c.name, c.key).changes;
    // Every message of a batch is still there, or another batch applied some of them already.
    if (consumed !== c.consumedMessageIds.length) throw new Fenced();
    for (const r of c.replies) {
      insertReply.run({
        instanceId: r.instanceId,
        executionId: r.executionId,
        now: c.now,
        event: JSON.stringify(r.event),
      });
    }
    operations.send(c.messages);
    // An instance that exists already is left alone: starting from an operation is idempotent by id.
    for (const start of c.newInstances) instances.create(start);
    return { ok: true, leaseToken: c.leaseToken + 1 };
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
    senderActive: row.sender_active === 1,
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

function toRecord(row: EntityRow): EntityRecord {
  const record: EntityRecord = {
    name: row.entity_name,
    key: row.entity_key,
    exists: row.has_state === 1,
    state: row.has_state === 1 && row.state !== null ? JSON.parse(row.state) : undefined,
  };
  if (row.last_modified !== null) record.lastModified = row.last_modified;
  if (row.lock_owner !== null) record.lockedBy = row.lock_owner;
  return record;
}
