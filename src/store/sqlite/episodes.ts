import type Database from "better-sqlite3";
import type { HistoryEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import { type ActivityResultDelivery, type EpisodeCommit, type EpisodeCommitResult, isTerminal } from "../store.js";

/**
 * The write path of workers: an episode (history, consumed messages, new tasks and timers,
 * status) lands whole or not at all, and only while its lease token is current.
 */
export function episodeOperations(db: Database.Database) {
  const advance = db.prepare(
    `UPDATE instances SET status = @status, output = @output, failure = @failure,
       custom_status = CASE WHEN @setCustomStatus THEN @customStatus ELSE custom_status END,
       updated_at = @now, completed_at = @completedAt, history_length = @newLength,
       lease_token = @newLeaseToken,
       lease_owner = CASE WHEN @release THEN NULL ELSE @workerId END,
       lease_expires_at = CASE WHEN @release THEN NULL ELSE @leaseExpiresAt END
     WHERE instance_id = @instanceId AND lease_token = @leaseToken
       AND (lease_owner = @workerId OR (@acquire AND (lease_owner IS NULL OR lease_expires_at < @now)))
       AND execution_id = @executionId AND history_length = @historyLength`,
  );
  const appendEvent = db.prepare("INSERT INTO history (instance_id, idx, event) VALUES (?, ?, ?)");
  const consumeMessage = db.prepare("DELETE FROM inbox WHERE id = ? AND instance_id = ?");
  const deleteTask = db.prepare("DELETE FROM activity_tasks WHERE id = ? AND instance_id = ?");
  const insertTask = db.prepare(
    `INSERT INTO activity_tasks (instance_id, execution_id, step, attempt, name, input, visible_at,
       lease_owner, lease_token, lease_expires_at)
     VALUES (@instanceId, @executionId, @step, @attempt, @name, @input, @now, @leaseOwner, 1, @leaseExpiresAt)`,
  );
  const insertMessage = db.prepare(
    "INSERT INTO inbox (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)",
  );
  const deleteInbox = db.prepare("DELETE FROM inbox WHERE instance_id = ?");
  const deleteTasks = db.prepare("DELETE FROM activity_tasks WHERE instance_id = ?");
  const deleteLeasedTask = db.prepare("DELETE FROM activity_tasks WHERE id = ? AND lease_token = ?");

  const commitOne = (c: EpisodeCommit): EpisodeCommitResult => {
    const finished = isTerminal(c.status);
    const newLeaseToken = c.acquireLease ? c.leaseToken + 1 : c.leaseToken;
    const changed = advance.run({
      instanceId: c.instanceId,
      workerId: c.workerId,
      leaseToken: c.leaseToken,
      newLeaseToken,
      acquire: c.acquireLease ? 1 : 0,
      executionId: c.executionId,
      historyLength: c.historyLength,
      newLength: c.historyLength + c.newEvents.length,
      status: c.status,
      output: c.status === "Completed" ? encode(c.output, "output") : null,
      failure: c.failure ? JSON.stringify(c.failure) : null,
      setCustomStatus: c.customStatus ? 1 : 0,
      customStatus: c.customStatus ? encode(c.customStatus.value, "customStatus") : null,
      now: c.now,
      completedAt: finished ? c.now : null,
      release: c.releaseLease || finished ? 1 : 0,
      leaseExpiresAt: c.leaseExpiresAt,
    }).changes;
    if (changed === 0) return { ok: false, reason: "lease-lost" };

    c.newEvents.forEach((event, i) => {
      appendEvent.run(c.instanceId, c.historyLength + i, JSON.stringify(event));
    });
    for (const id of c.consumedMessageIds) consumeMessage.run(id, c.instanceId);
    if (c.completedTaskId !== undefined) deleteTask.run(c.completedTaskId, c.instanceId);
    if (finished) {
      // Nothing more can happen to a finished instance: drop what still waits for it.
      deleteInbox.run(c.instanceId);
      deleteTasks.run(c.instanceId);
      return { ok: true, taskIds: [], leaseToken: newLeaseToken };
    }
    const taskIds = c.newTasks.map((task) => {
      const leased = task.leaseToCommitter;
      return Number(
        insertTask.run({
          instanceId: c.instanceId,
          executionId: c.executionId,
          step: task.step,
          attempt: task.attempt,
          name: task.name,
          input: encode(task.input, "input"),
          now: c.now,
          leaseOwner: leased ? c.workerId : null,
          leaseExpiresAt: leased ? c.leaseExpiresAt : null,
        }).lastInsertRowid,
      );
    });
    for (const timer of c.newTimers) {
      const fired: HistoryEvent = {
        type: "TimerFired",
        timestamp: timer.fireAt,
        step: timer.step,
        fireAt: timer.fireAt,
      };
      insertMessage.run(c.instanceId, c.executionId, timer.fireAt, JSON.stringify(fired));
    }
    return { ok: true, taskIds, leaseToken: newLeaseToken };
  };

  return {
    /** Applies each episode in its own savepoint, so one failure does not undo the others. */
    commit(commits: EpisodeCommit[]): EpisodeCommitResult[] {
      return commits.map((c) => {
        try {
          return db.transaction(commitOne)(c);
        } catch (error) {
          return { ok: false, reason: "error", error };
        }
      });
    },

    deliver(deliveries: ActivityResultDelivery[], now: number): boolean[] {
      return deliveries.map((d) => {
        if (deleteLeasedTask.run(d.taskId, d.leaseToken).changes === 0) return false;
        insertMessage.run(d.instanceId, d.executionId, now, JSON.stringify(d.event));
        return true;
      });
    },
  };
}
