import type Database from "better-sqlite3";
import type { IncomingEvent } from "../../history/events.js";
import type { ActivityTask, InboxMessage, ReadyInstance } from "../store.js";
import { type ActivityTaskRow, toActivityTask } from "./rows.js";

/**
 * Worker-side reads and leases: which instances and activity tasks are due, who holds
 * them, and for how long. Instances are not leased here: a worker reads a ready instance
 * without a lease and takes the lease in the commit of its first episode (see episodes.ts),
 * which saves a transaction per instance; a task lease changes hands only when it is free
 * or expired, and a new holder gets a new token, which fences out the old one.
 */
export function claimOperations(db: Database.Database) {
  const findReady = db.prepare(
    `SELECT i.instance_id AS instanceId, i.name, i.execution_id AS executionId, i.lease_token AS leaseToken,
       i.history_length AS historyLength
     FROM instances i
     WHERE i.status IN ('Pending', 'Running', 'ContinuedAsNew')
       AND (i.lease_owner IS NULL OR i.lease_owner = @workerId OR i.lease_expires_at < @now)
       AND i.instance_id NOT IN (SELECT value FROM json_each(@busy))
       AND EXISTS (SELECT 1 FROM inbox m WHERE m.instance_id = i.instance_id AND m.visible_at <= @now
                   AND m.execution_id = i.execution_id)
     LIMIT @limit`,
  );
  const readInbox = db.prepare<[string, number], { id: number; execution_id: string; event: string }>(
    `SELECT m.id, m.execution_id, m.event FROM inbox m JOIN instances i ON i.instance_id = m.instance_id
     WHERE m.instance_id = ? AND m.visible_at <= ? AND m.execution_id = i.execution_id ORDER BY m.id`,
  );
  const anyClaimable = db
    .prepare<{ now: number }, number>(
      `SELECT EXISTS (SELECT 1 FROM activity_tasks WHERE lease_owner IS NULL AND visible_at <= @now)
           OR EXISTS (SELECT 1 FROM activity_tasks WHERE lease_owner IS NOT NULL AND lease_expires_at < @now)`,
    )
    .pluck();
  const claimTasks = db.prepare(
    `UPDATE activity_tasks SET lease_owner = @workerId, lease_token = lease_token + 1, lease_expires_at = @leaseExpiresAt
     WHERE id IN (
       SELECT id FROM activity_tasks
       WHERE visible_at <= @now AND (lease_owner IS NULL OR lease_expires_at < @now)
       ORDER BY visible_at, id LIMIT @limit)
     RETURNING id, instance_id, execution_id, step, attempt, name, input, lease_token`,
  );
  const renewInstances = db.prepare("UPDATE instances SET lease_expires_at = ? WHERE lease_owner = ?");
  const renewTasks = db.prepare("UPDATE activity_tasks SET lease_expires_at = ? WHERE lease_owner = ?");
  const releaseAllInstances = db.prepare(
    "UPDATE instances SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
  );
  const releaseSomeInstances = db.prepare(
    `UPDATE instances SET lease_owner = NULL, lease_expires_at = NULL
     WHERE lease_owner = ? AND instance_id IN (SELECT value FROM json_each(?))`,
  );
  const releaseTasks = db.prepare(
    "UPDATE activity_tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
  );
  const leaseOwners = db
    .prepare<[], string>(
      `SELECT lease_owner FROM instances WHERE lease_owner IS NOT NULL
       UNION SELECT lease_owner FROM activity_tasks WHERE lease_owner IS NOT NULL`,
    )
    .pluck();
  const nextDue = db
    .prepare<{ now: number; workerId: string }, number | null>(
      `SELECT MIN(t) FROM (
         SELECT MIN(visible_at) AS t FROM inbox WHERE visible_at > @now
         UNION ALL SELECT MIN(visible_at) FROM activity_tasks WHERE visible_at > @now
         UNION ALL SELECT MIN(lease_expires_at) FROM activity_tasks WHERE lease_owner <> @workerId AND lease_expires_at > @now
         UNION ALL SELECT MIN(lease_expires_at) FROM instances WHERE lease_owner <> @workerId AND lease_expires_at > @now)`,
    )
    .pluck();

  return {
    findReadyInstances(workerId: string, now: number, limit: number, busy: string[]): ReadyInstance[] {
      return findReady.all({ workerId, now, limit, busy: JSON.stringify(busy) }) as ReadyInstance[];
    },

    readInbox(instanceId: string, now: number): InboxMessage[] {
      return readInbox.all(instanceId, now).map((row) => ({
        id: row.id,
        executionId: row.execution_id,
        event: JSON.parse(row.event) as IncomingEvent,
      }));
    },

    /** A read-only look first: most polls find nothing, and must not take the write lock for that. */
    hasClaimableTasks(now: number): boolean {
      return anyClaimable.get({ now }) === 1;
    },

    claimActivityTasks(workerId: string, now: number, leaseExpiresAt: number, limit: number): ActivityTask[] {
      const rows = claimTasks.all({ workerId, now, leaseExpiresAt, limit }) as ActivityTaskRow[];
      return rows.map(toActivityTask);
    },

    renewLeases(workerId: string, leaseExpiresAt: number): void {
      renewInstances.run(leaseExpiresAt, workerId);
      renewTasks.run(leaseExpiresAt, workerId);
    },

    releaseLeases(workerId: string, instanceIds?: string[]): void {
      if (instanceIds) {
        releaseSomeInstances.run(workerId, JSON.stringify(instanceIds));
        return;
      }
      releaseAllInstances.run(workerId);
      releaseTasks.run(workerId);
    },

    listLeaseOwners(): string[] {
      return leaseOwners.all();
    },

    nextDueTime(now: number, workerId: string): number | undefined {
      const due = nextDue.get({ now, workerId });
      return due === null || due === undefined ? undefined : due;
    },
  };
}
