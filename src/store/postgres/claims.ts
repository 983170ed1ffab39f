import type { IncomingEvent } from "../../history/events.js";
import { type ActivityTaskRow, toActivityTask } from "../sqlite/rows.js";
import type { ActivityTask, InboxMessage, ReadyInstance } from "../store.js";
import type { Database, Tx } from "./connection.js";
import type { Tables } from "./instances.js";

/**
 * Worker-side reads and leases. As on SQLite, instances are not leased here: a worker reads
 * a ready instance without a lease and takes the lease in the commit of its first episode
 * (optimistic; see episodeBatch.ts). Activity tasks are claimed with FOR UPDATE SKIP LOCKED,
 * so workers claiming at the same moment take different tasks instead of queueing on the
 * same rows. Statements that lock several instance rows lock them in id order, as the
 * episode commit does, so that they cannot deadlock with it.
 */
export function claimOperations(db: Database, t: Tables) {
  const sql = {
    findReady: `SELECT i.instance_id AS "instanceId", i.name, i.execution_id AS "executionId",
        i.lease_token AS "leaseToken", i.history_length AS "historyLength"
      FROM ${t.instances} i
      WHERE i.status IN ('Pending', 'Running', 'ContinuedAsNew')
        AND (i.lease_owner IS NULL OR i.lease_owner = $1 OR i.lease_expires_at < $2)
        AND NOT (i.instance_id = ANY($3::text[]))
        AND EXISTS (SELECT 1 FROM ${t.inbox} m WHERE m.instance_id = i.instance_id AND m.visible_at <= $2
                    AND m.execution_id = i.execution_id)
      LIMIT $4`,
    readInbox: `SELECT m.id, m.execution_id, m.event FROM ${t.inbox} m JOIN ${t.instances} i ON i.instance_id = m.instance_id
      WHERE m.instance_id = $1 AND m.visible_at <= $2 AND m.execution_id = i.execution_id ORDER BY m.id`,
    claimTasks: `UPDATE ${t.tasks} SET lease_owner = $1, lease_token = lease_token + 1, lease_expires_at = $3
      WHERE id IN (
        SELECT id FROM ${t.tasks}
        WHERE (lease_owner IS NULL AND visible_at <= $2) OR (lease_owner IS NOT NULL AND lease_expires_at < $2 AND visible_at <= $2)
        ORDER BY visible_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING id, instance_id, execution_id, step, attempt, name, input, lease_token, visible_at`,
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
    releaseTasks: `UPDATE ${t.tasks} SET lease_owner = NULL, lease_expires_at = NULL WHERE id IN (
        SELECT id FROM ${t.tasks} WHERE lease_owner = $1 ORDER BY id FOR UPDATE) AND lease_owner = $1`,
    leaseOwners: `SELECT lease_owner FROM ${t.instances} WHERE lease_owner IS NOT NULL
      UNION SELECT lease_owner FROM ${t.tasks} WHERE lease_owner IS NOT NULL`,
    nextDue: `SELECT LEAST(
        (SELECT MIN(visible_at) FROM ${t.inbox} WHERE visible_at > $1),
        (SELECT MIN(visible_at) FROM ${t.tasks} WHERE lease_owner IS NULL AND visible_at > $1),
        (SELECT MIN(lease_expires_at) FROM ${t.tasks} WHERE lease_owner <> $2 AND lease_expires_at > $1),
        (SELECT MIN(lease_expires_at) FROM ${t.instances} WHERE lease_owner <> $2 AND lease_expires_at > $1)) AS due`,
  };

  return {
    async findReadyInstances(workerId: string, now: number, limit: number, busy: string[]): Promise<ReadyInstance[]> {
      return (await db.query<ReadyInstance>(sql.findReady, [workerId, now, busy, limit])).rows;
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
    ): Promise<ActivityTask[]> {
      const { rows } = await db.query<ActivityTaskRow & { visible_at: number }>(sql.claimTasks, [
        workerId,
        now,
        leaseExpiresAt,
        limit,
      ]);
      // RETURNING comes in no particular order: hand tasks out oldest first.
      rows.sort((a, b) => a.visible_at - b.visible_at || a.id - b.id);
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
        return (await tx.query(sql.releaseSomeInstances, [workerId, instanceIds])).rowCount > 0;
      }
      const released = (await tx.query(sql.releaseInstances, [workerId])).rowCount;
      return released + (await tx.query(sql.releaseTasks, [workerId])).rowCount > 0;
    },

    async listLeaseOwners(): Promise<string[]> {
      return (await db.query<{ lease_owner: string }>(sql.leaseOwners)).rows.map((r) => r.lease_owner);
    },

    async nextDueTime(now: number, workerId: string): Promise<number | undefined> {
      const { rows } = await db.query<{ due: number | null }>(sql.nextDue, [now, workerId]);
      return rows[0]?.due ?? undefined;
    },
  };
}
