import type Database from "better-sqlite3";

/** A task the committing worker runs itself, as the episode that scheduled it writes it. */
export interface HeldTask {
  id: number;
  instanceId: string;
  executionId: string;
  step: number;
  attempt: number;
  name: string;
  input: string | null;
  now: number;
  leaseOwner: string;
  leaseExpiresAt: number;
  queue: string;
}

const COLUMNS =
  "id, instance_id, execution_id, step, attempt, name, input, visible_at, lease_owner, lease_token, lease_expires_at, queue";

/**
 * The fast path's tasks (see migration 0007): leased to the worker that committed them, for
 * as long as its lease on their instance lasts. They leave for activity_tasks, lease and all,
 * when the lease ends or is released; from there claims hand them to any worker, as before.
 */
export function heldTaskOperations(db: Database.Database) {
  const insert = db.prepare<HeldTask>(
    `INSERT INTO held_tasks (${COLUMNS})
     VALUES (@id, @instanceId, @executionId, @step, @attempt, @name, @input, @now, @leaseOwner, 1, @leaseExpiresAt, @queue)`,
  );
  const remove = db.prepare<[string, number]>("DELETE FROM held_tasks WHERE instance_id = ? AND id = ?");
  const removeLeased = db.prepare<[string, number, number]>(
    "DELETE FROM held_tasks WHERE instance_id = ? AND id = ? AND lease_token = ?",
  );
  const moveExpired = db.prepare<{ now: number }>(
    `INSERT INTO activity_tasks (${COLUMNS}) SELECT ${COLUMNS} FROM held_tasks WHERE lease_expires_at < @now`,
  );
  const dropExpired = db.prepare<{ now: number }>("DELETE FROM held_tasks WHERE lease_expires_at < @now");
  // Released tasks are claimable at once: no lease, as activity_tasks has them.
  const moveReleased = db.prepare<{ workerId: string; ids: string | null }>(
    `INSERT INTO activity_tasks (${COLUMNS})
     SELECT id, instance_id, execution_id, step, attempt, name, input, visible_at, NULL, lease_token, NULL, queue
     FROM held_tasks WHERE lease_owner = @workerId
       AND (@ids IS NULL OR instance_id IN (SELECT value FROM json_each(@ids)))`,
  );
  const dropReleased = db.prepare<{ workerId: string; ids: string | null }>(
    `DELETE FROM held_tasks WHERE lease_owner = @workerId
       AND (@ids IS NULL OR instance_id IN (SELECT value FROM json_each(@ids)))`,
  );
  const renew = db.prepare<[number, string]>("UPDATE held_tasks SET lease_expires_at = ? WHERE lease_owner = ?");

  return {
    /** Inside an episode's transaction: a task its worker runs now. */
    hold(task: HeldTask): void {
      insert.run(task);
    },

    /** Inside an episode's transaction: its result is in; false if the task is not held (any more). */
    complete(instanceId: string, taskId: number): boolean {
      return remove.run(instanceId, taskId).changes > 0;
    },

    /** A result delivered apart from an episode: only while the lease it ran under is current. */
    completeLeased(instanceId: string, taskId: number, leaseToken: number): boolean {
      return removeLeased.run(instanceId, taskId, leaseToken).changes > 0;
    },

    /** Inside a claim's transaction: tasks whose worker's lease ended become claimable. */
    releaseExpired(now: number): void {
      if (moveExpired.run({ now }).changes > 0) dropExpired.run({ now });
    },

    /** A worker let go of its leases (of these instances, or all): their tasks are claimable now. */
    release(workerId: string, instanceIds?: string[]): void {
      const params = { workerId, ids: instanceIds ? JSON.stringify(instanceIds) : null };
      if (moveReleased.run(params).changes > 0) dropReleased.run(params);
    },

    renew(workerId: string, leaseExpiresAt: number): void {
      renew.run(leaseExpiresAt, workerId);
    },
  };
}

export type HeldTaskOperations = ReturnType<typeof heldTaskOperations>;
