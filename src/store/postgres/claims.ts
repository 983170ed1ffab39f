import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import type { IncomingEvent } from "../../history/events.js";
import { type ActivityTaskRow, toActivityTask } from "../sqlite/rows.js";
import type { ActivityTask, InboxMessage, ReadyInstance } from "../store.js";
import type { Database, Tx } from "./connection.js";
import type { Tables } from "./instances.js";

/**
 * An instance is ready when it runs, nobody else holds a live lease on it, and a message of
 * its current execution is due. Parameters: $1 the worker, $2 now, $3 its busy instances,
 * $5 the queues it serves.
 */
export function readyCondition(t: Tables): string {
  return `i.status IN ('Pending', 'Running', 'ContinuedAsNew')
      AND (i.lease_owner IS NULL OR i.lease_owner = $1 OR i.lease_expires_at < $2)
      AND NOT (i.instance_id = ANY($3::text[]))
      AND i.queue = ANY($5::text[])
      AND EXISTS (SELECT 1 FROM ${t.inbox} m WHERE m.instance_id = i.instance_id AND m.visible_at <= $2
                  AND m.execution_id = i.execution_id)`;
}

/** A ready instance's columns, from rows of the instances table as `a`; its due messages come with it, saving a read. */
export function readyColumns(t: Tables, a: string): string {
  return `${a}.instance_id AS "instanceId", ${a}.name, ${a}.execution_id AS "executionId",
      ${a}.lease_token AS "leaseToken", ${a}.history_length AS "historyLength",
      (SELECT COALESCE(json_agg(json_build_object('id', m.id, 'executionId', m.execution_id, 'event', m.event::json)
        ORDER BY m.id), '[]'::json) FROM ${t.inbox} m
       WHERE m.instance_id = ${a}.instance_id AND m.visible_at <= $2 AND m.execution_id = ${a}.execution_id) AS messages`;
}

/**
 * Worker-side reads and leases. As on SQLite, a lone worker reads a ready instance without a
 * lease and takes the lease in the commit of its first episode (optimistic; see
 * episodeBatch.ts); workers that compete also reserve the instances they poll, without a
 * write (reservations.ts). Activity tasks are claimed with FOR UPDATE SKIP LOCKED,
 * so workers claiming at the same moment take different tasks instead of queueing on the
 * same rows. Statements that lock several instance rows lock them in id order, as the
 * episode commit does, so that they cannot deadlock with it.
 *
 * Workers see the instances and tasks of the queues they serve only. A claim from queues
 * without limits is one statement, as before queues existed. A claim that involves a limited
 * queue is a transaction: it locks the queues' rows (FOR UPDATE, in name order) in one
 * statement, then counts leases, spends tokens and leases tasks in the next, whose snapshot
 * is taken after the lock: claimers of one limited queue take turns, and each sees the
 * leases the one before it committed. (In one statement the count would come from a
 * snapshot taken before the lock was granted, and miss the previous claimer's leases.)
 * Empty claims measured on this machine: 0.2 ms for the single statement, 1.1 ms for the
 * locked transaction; most polls find nothing, hence the split.
 */
export function claimOperations(db: Database, t: Tables) {
  const sql = {
    findReady: `SELECT ${readyColumns(t, "i")} FROM ${t.instances} i WHERE ${readyCondition(t)} LIMIT $4`,
    readInbox: `SELECT m.id, m.execution_id, m.event FROM ${t.inbox} m JOIN ${t.instances} i ON i.instance_id = m.instance_id
      WHERE m.instance_id = $1 AND m.visible_at <= $2 AND m.execution_id = i.execution_id ORDER BY m.id`,
    // Leases tasks only if none of the queues has limits; says whether one has.
    claimUnlimited: `WITH limited AS (SELECT 1 FROM ${t.queues} WHERE name = ANY($5::text[]) LIMIT 1),
      claimed AS (
        UPDATE ${t.tasks} SET lease_owner = $1, lease_token = lease_token + 1, lease_expires_at = $3::bigint
        WHERE NOT EXISTS (SELECT 1 FROM limited) AND id IN (
          SELECT id FROM ${t.tasks}
          WHERE queue = ANY($5::text[]) AND ((lease_owner IS NULL AND visible_at <= $2::bigint)
            OR (lease_owner IS NOT NULL AND lease_expires_at < $2::bigint AND visible_at <= $2::bigint))
          ORDER BY visible_at, id LIMIT $4::bigint FOR UPDATE SKIP LOCKED)
        RETURNING id, instance_id, execution_id, step, attempt, name, input, lease_token, visible_at, queue)
      SELECT EXISTS (SELECT 1 FROM limited) AS limited,
        COALESCE((SELECT json_agg(c) FROM claimed c), '[]'::json) AS tasks`,
    lockQueues: `SELECT name FROM ${t.queues} WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
    // Each served queue offers its oldest due tasks, as many as its budget allows (the same
    // rule as queueBudget.ts: concurrency left free by unexpired leases, whole tokens in the
    // bucket, the claim's limit); the oldest offered are leased, and their queues' buckets
    // are charged for them.
    claimTasks: `WITH served AS (SELECT DISTINCT unnest($5::text[]) AS queue),
      limits AS (
        SELECT q.name, q.concurrency, q.refilled_at,
          LEAST(q.burst, q.tokens + GREATEST(0, $2::bigint - q.refilled_at) * q.rate_per_second / 1000.0) AS tokens
        FROM ${t.queues} q WHERE q.name = ANY($5::text[])),
      budgets AS (
        SELECT s.queue, l.tokens, GREATEST(0, LEAST($4::bigint,
          COALESCE(l.concurrency - (SELECT count(*) FROM ${t.tasks} k WHERE k.queue = s.queue
            AND k.lease_owner IS NOT NULL AND k.lease_expires_at >= $2::bigint), $4::bigint),
          COALESCE(floor(l.tokens + 1e-9)::bigint, $4::bigint))) AS budget
        FROM served s LEFT JOIN limits l ON l.name = s.queue),
      picked AS (
        SELECT c.id, b.queue FROM budgets b CROSS JOIN LATERAL (
          SELECT k.id, k.visible_at FROM ${t.tasks} k
          WHERE k.queue = b.queue AND ((k.lease_owner IS NULL AND k.visible_at <= $2::bigint)
            OR (k.lease_owner IS NOT NULL AND k.lease_expires_at < $2::bigint AND k.visible_at <= $2::bigint))
          ORDER BY k.visible_at, k.id LIMIT b.budget FOR UPDATE SKIP LOCKED) c
        ORDER BY c.visible_at, c.id LIMIT $4::bigint),
      spent AS (
        UPDATE ${t.queues} q SET tokens = b.tokens - n.taken, refilled_at = GREATEST(q.refilled_at, $2::bigint)
        FROM budgets b JOIN (SELECT queue, count(*) AS taken FROM picked GROUP BY queue) n ON n.queue = b.queue
        WHERE q.name = b.queue AND b.tokens IS NOT NULL)
      -- Every picked task is locked, so every one is updated: the charge above is exact. The
      -- UPDATE is the statement itself (not a CTE), so that its rows count as a write.
      UPDATE ${t.tasks} SET lease_owner = $1, lease_token = lease_token + 1, lease_expires_at = $3::bigint
      WHERE id IN (SELECT id FROM picked)
      RETURNING id, instance_id, execution_id, step, attempt, name, input, lease_token, visible_at, queue`,
    renewInstances: `UPDATE ${t.instances} SET lease_expires_at = $2 WHERE instance_id IN (
        SELECT instance_id FROM ${t.instances} WHERE lease_owner = $1 ORDER BY instance_id FOR UPDATE)
        AND lease_owner = $1`,
    renewTasks: `UPDATE ${t.tasks} SET lease_expires_at = $2 WHERE id IN (
        SELECT id FROM ${t.tasks} WHERE lease_owner = $1 ORDER BY id FOR UPDATE) AND lease_owner = $1`,
    releaseInstances: `UPDATE ${t.instances} SET lease_owner = NULL, lease_expires_at = NULL WHERE instance_id IN (
        SELECT instance_id FROM ${t.instances} WHERE lease_owner = $1 ORDER BY instance_id FOR UPDATE)
        AND lease_owner = $1`,
    releaseSomeInstances: `UPDATE ${t.instances} SET lease_owner = NULL, lease_expires_at = NULL WHERE instance_id IN (
        SELECT instance_id FROM ${t.instances} WHERE lease_owner = $1 AND instance_id = ANY($2::text[])
        ORDER BY instance_id FOR UPDATE) AND lease_owner = $1`,
    releaseSomeTasks: `UPDATE ${t.tasks} SET lease_owner = NULL, lease_expires_at = NULL WHERE id IN (
        SELECT id FROM ${t.tasks} WHERE lease_owner = $1 AND instance_id = ANY($2::text[])
        ORDER BY id FOR UPDATE) AND lease_owner = $1`,
    releaseTasks: `UPDATE ${t.tasks} SET lease_owner = NULL, lease_expires_at = NULL WHERE id IN (
        SELECT id FROM ${t.tasks} WHERE lease_owner = $1 ORDER BY id FOR UPDATE) AND lease_owner = $1`,
    leaseOwners: `SELECT lease_owner FROM ${t.instances} WHERE lease_owner IS NOT NULL
      UNION SELECT lease_owner FROM ${t.tasks} WHERE lease_owner IS NOT NULL`,
    // $3 is NULL for "every queue". The last term: when a rate-limited queue with tasks
    // waiting next holds a whole token.
    nextDue: `SELECT LEAST(
        (SELECT MIN(visible_at) FROM ${t.inbox} WHERE visible_at > $1),
        (SELECT MIN(visible_at) FROM ${t.tasks} WHERE lease_owner IS NULL AND visible_at > $1
          AND ($3::text[] IS NULL OR queue = ANY($3::text[]))),
        (SELECT MIN(lease_expires_at) FROM ${t.tasks} WHERE lease_owner <> $2 AND lease_expires_at > $1
          AND ($3::text[] IS NULL OR queue = ANY($3::text[]))),
        (SELECT MIN(lease_expires_at) FROM ${t.instances} WHERE lease_owner <> $2 AND lease_expires_at > $1
          AND ($3::text[] IS NULL OR queue = ANY($3::text[]))),
        (SELECT MIN($1::bigint + ceil((1 - b.level) * 1000 / b.rate)) FROM (
          SELECT q.rate_per_second AS rate,
            LEAST(q.burst, q.tokens + GREATEST(0, $1::bigint - q.refilled_at) * q.rate_per_second / 1000.0) AS level
          FROM ${t.queues} q WHERE q.rate_per_second IS NOT NULL AND ($3::text[] IS NULL OR q.name = ANY($3::text[]))
            AND EXISTS (SELECT 1 FROM ${t.tasks} k WHERE k.queue = q.name AND k.lease_owner IS NULL
                        AND k.visible_at <= $1)) b
          WHERE b.level < 1 - 1e-9))::bigint AS due`,
  };

  /** Served-queue sets that had a limited queue at their last claim: they go straight to the locked claim. */
  const limitedLastTime = new Set<string>();

  return {
    /** Without a reservation: a lone worker's poll (see reservations.ts for competing workers'). */
    async findReadyInstances(
      workerId: string,
      now: number,
      limit: number,
      busy: string[],
      served: string[] = [DEFAULT_QUEUE],
    ): Promise<ReadyInstance[]> {
      return (await db.query<ReadyInstance>(sql.findReady, [workerId, now, busy, limit, served])).rows;
    },

    async readInbox(instanceId: string, now: number): Promise<InboxMessage[]> {
      const { rows } = await db.query<{ id: number; execution_id: string; event: string }>(sql.readInbox, [
        instanceId,
        now,
      ]);
      return rows.map((row) => ({
        id: row.id,
        executionId: row.execution_id,
        event: JSON.parse(row.event) as IncomingEvent,
      }));
    },

    async claimActivityTasks(
      workerId: string,
      now: number,
      leaseExpiresAt: number,
      limit: number,
      served: string[] = [DEFAULT_QUEUE],
    ): Promise<ActivityTask[]> {
      const queues = [...new Set(served)];
      const key = JSON.stringify(queues);
      const params = [workerId, now, leaseExpiresAt, limit, queues];
      let rows: ActivityTaskRow[] | undefined;
      if (!limitedLastTime.has(key)) {
        const answer = await db.query<{ limited: boolean; tasks: ActivityTaskRow[] }>(
          sql.claimUnlimited,
          params,
          (r) => (r[0]?.tasks.length ?? 0) > 0,
        );
        if (!answer.rows[0]?.limited) rows = answer.rows[0]?.tasks ?? [];
      }
      if (!rows) {
        // Promises returned unawaited, so that COMMIT goes out right behind the claim.
        const { locked, claimed } = await db.transaction(async (tx) => ({
          locked: tx.query<{ name: string }>(sql.lockQueues, [queues]),
          claimed: tx.query<ActivityTaskRow>(sql.claimTasks, params),
        }));
        if ((await locked).rows.length > 0) limitedLastTime.add(key);
        else limitedLastTime.delete(key);
        rows = (await claimed).rows;
      }
      // RETURNING comes in no particular order: hand tasks out oldest first.
      rows.sort((a, b) => (a.visible_at ?? 0) - (b.visible_at ?? 0) || a.id - b.id);
      return rows.map(toActivityTask);
    },

    /** Two statements, each its own short transaction: a renewal needs no atomicity. */
    async renewLeases(workerId: string, leaseExpiresAt: number): Promise<void> {
      await db.query(sql.renewInstances, [workerId, leaseExpiresAt]);
      await db.query(sql.renewTasks, [workerId, leaseExpiresAt]);
    },

    /** Inside the caller's transaction; returns whether anything was released. */
    async releaseLeases(tx: Tx, workerId: string, instanceIds?: string[]): Promise<boolean> {
      if (instanceIds) {
        if (instanceIds.length === 0) return false;
        const instances = (await tx.query(sql.releaseSomeInstances, [workerId, instanceIds])).rowCount;
        return instances + (await tx.query(sql.releaseSomeTasks, [workerId, instanceIds])).rowCount > 0;
      }
      const released = (await tx.query(sql.releaseInstances, [workerId])).rowCount;
      return released + (await tx.query(sql.releaseTasks, [workerId])).rowCount > 0;
    },

    async listLeaseOwners(): Promise<string[]> {
      return (await db.query<{ lease_owner: string }>(sql.leaseOwners)).rows.map((r) => r.lease_owner);
    },

    async nextDueTime(now: number, workerId: string, served?: string[]): Promise<number | undefined> {
      const { rows } = await db.query<{ due: number | null }>(sql.nextDue, [now, workerId, served ?? null]);
      return rows[0]?.due ?? undefined;
    },
  };
}
