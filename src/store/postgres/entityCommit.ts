import { encode } from "../../history/serialization.js";
import type { EntityCommit, EntityCommitResult, NewEntityMessage } from "../entityStore.js";
import type { NewInstance } from "../store.js";
import { type Database, sendOnly, type Tx } from "./connection.js";
import { activeExecution, type EntityTables } from "./entityTables.js";
import type { Tables } from "./instances.js";

/** Thrown to undo a group commit: a batch's messages were consumed by another batch. */
class Fenced extends Error {}

/** The writes of a batch commit that live elsewhere: messages, orchestration starts, the operation log. */
export interface CommitHooks {
  send(tx: Tx, messages: readonly NewEntityMessage[]): Promise<void>;
  createInstances(tx: Tx, starts: NewInstance[]): Promise<unknown>;
  appendLog(tx: Tx, commits: readonly EntityCommit[]): void;
}

/**
 * Commits entity batches on the PostgreSQL store: a group of many entities' batches is one
 * transaction of a fixed number of statements — the fenced UPDATE of their rows (locked in
 * (name, key) order, as episode commits lock instances in id order, so concurrent commits
 * cannot deadlock), the consumed messages, the replies, the messages sent, the
 * orchestrations started and the operation log.
 */
export function entityCommitOperations(db: Database, t: Tables, e: EntityTables, hooks: CommitHooks) {
  const active = activeExecution(t);
  const sql = {
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
  };

  return {
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
    sendOnly(hooks.send(tx, messages));
    const starts = passed.flatMap((c) => c.newInstances);
    // An instance that exists already is left alone: starting from an operation is idempotent by id.
    if (starts.length > 0) await hooks.createInstances(tx, starts);
    hooks.appendLog(tx, passed);
    return { results, work: replies.length > 0 || messages.length > 0 || starts.length > 0 };
  }
}
