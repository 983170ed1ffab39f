import type Database from "better-sqlite3";
import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import { toFailureDetails } from "../../errors/failure.js";
import type { HistoryEvent, IncomingEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import { type ActivityResultDelivery, type EpisodeCommit, type EpisodeCommitResult, isTerminal } from "../store.js";
import type { HeldTaskOperations } from "./heldTasks.js";
import type { InstanceOperations } from "./instances.js";
import type { QueueOperations } from "./queues.js";
import type { TaskIdAllocator } from "./taskIds.js";

/**
 * The write path of workers: an episode (history, consumed messages, new tasks, timers and
 * sub-orchestrations, status, the parent's notice) lands whole or not at all, and only
 * while its lease token is current.
 */
export function episodeOperations(
  db: Database.Database,
  instances: InstanceOperations,
  queues: QueueOperations,
  newTaskIds: TaskIdAllocator,
  held: HeldTaskOperations,
) {
  const advance = db.prepare<Record<string, unknown>, { id: number }>(
    `UPDATE instances SET status = @status, output = @output, failure = @failure,
       custom_status = CASE WHEN @setCustomStatus THEN @customStatus ELSE custom_status END,
       updated_at = @now, completed_at = @completedAt, history_length = @newLength,
       lease_token = @newLeaseToken,
       lease_owner = CASE WHEN @release THEN NULL ELSE @workerId END,
       lease_expires_at = CASE WHEN @release THEN NULL ELSE @leaseExpiresAt END
     WHERE instance_id = @instanceId AND lease_token = @leaseToken
       AND (lease_owner = @workerId OR (@acquire AND (lease_owner IS NULL OR lease_expires_at < @now)))
       AND execution_id = @executionId AND history_length = @historyLength
     RETURNING id`,
  );
  // The common episode of an instance the worker already holds, that stays Running: it leaves
  // status and lease_owner out of SET, because SQLite rewrites the entries of every index on
  // a column that SET names, even to the same value (2 WAL pages per commit). If the row is
  // not in that state (a lease taken at poll, a status to change), `advance` does the work.
  const advanceHeld = db.prepare<Record<string, unknown>, { id: number }>(
    `UPDATE instances SET output = @output, failure = @failure,
       custom_status = CASE WHEN @setCustomStatus THEN @customStatus ELSE custom_status END,
       updated_at = @now, completed_at = @completedAt, history_length = @newLength,
       lease_token = @newLeaseToken, lease_expires_at = @leaseExpiresAt
     WHERE instance_id = @instanceId AND lease_token = @leaseToken AND lease_owner = @workerId
       AND status = @status AND execution_id = @executionId AND history_length = @historyLength
     RETURNING id`,
  );
  const consumeMessage = db.prepare("DELETE FROM inbox WHERE id = ? AND instance_id = ?");
  const deleteTask = db.prepare("DELETE FROM activity_tasks WHERE id = ? AND instance_id = ?");
  const insertTask = db.prepare(
    `INSERT INTO activity_tasks (id, instance_id, execution_id, step, attempt, name, input, visible_at,
       lease_owner, lease_token, lease_expires_at, queue)
     VALUES (@id, @instanceId, @executionId, @step, @attempt, @name, @input, @now, NULL, 1, NULL, @queue)`,
  );
  const cancelTimer = db.prepare(
    `DELETE FROM inbox WHERE instance_id = ? AND json_extract(event, '$.type') = 'TimerFired'
       AND json_extract(event, '$.step') = ?`,
  );
  const deleteLeasedTask = db.prepare("DELETE FROM activity_tasks WHERE id = ? AND lease_token = ?");
  const deleteHistory = db.prepare("DELETE FROM history WHERE instance = ?");
  const dropOldMessages = db.prepare(
    `DELETE FROM inbox WHERE instance_id = ? AND execution_id = ?
       AND (NOT ? OR json_extract(event, '$.type') <> 'EventRaised')`,
  );
  const keptMessages = db.prepare<[string, string], { visible_at: number; event: string }>(
    "SELECT visible_at, event FROM inbox WHERE instance_id = ? AND execution_id = ? ORDER BY id",
  );
  const deleteKeptMessages = db.prepare("DELETE FROM inbox WHERE instance_id = ? AND execution_id = ?");
  const restart = db.prepare(
    "UPDATE instances SET execution_id = ?, input = ?, history_length = 0, custom_status = NULL WHERE instance_id = ?",
  );

  /** Starts the next execution of an instance that continued as new, in the same transaction. */
  const continueAsNew = (
    c: EpisodeCommit,
    instanceKey: number,
    next: NonNullable<EpisodeCommit["continueAsNew"]>,
  ): void => {
    const preserve = next.preserveUnprocessedEvents ? 1 : 0;
    deleteHistory.run(instanceKey);
    instances.clearTasks(c.instanceId);
    dropOldMessages.run(c.instanceId, c.executionId, preserve);
    // Events still in the inbox arrived after the carried-over ones (those reached history):
    // queue them again after those, so that the events of one name keep their order.
    const kept = keptMessages.all(c.instanceId, c.executionId);
    deleteKeptMessages.run(c.instanceId, c.executionId);
    restart.run(next.executionId, encode(next.input, "continueAsNew input"), c.instanceId);
    const record = instances.get(c.instanceId);
    const started: Extract<HistoryEvent, { type: "ExecutionStarted" }> = {
      type: "ExecutionStarted",
      timestamp: c.now,
      name: record?.name ?? "",
      input: next.input,
      executionId: next.executionId,
    };
    if (next.parent) started.parent = next.parent;
    instances.send(c.instanceId, next.executionId, started, c.now);
    for (const event of next.carryOverEvents) instances.send(c.instanceId, next.executionId, event, c.now);
    for (const m of kept) {
      instances.send(c.instanceId, next.executionId, JSON.parse(m.event) as IncomingEvent, m.visible_at);
    }
  };

  // Set when a finished child wrote to its parent's inbox: the parent's worker must wake.
  let parentsNotified = false;
  // The limited queues among those the batch's fast-path tasks ask for: read once per batch.
  let limitedInBatch = new Map<string, unknown>();

  const commitOne = (c: EpisodeCommit): EpisodeCommitResult => {
    const finished = isTerminal(c.status);
    const newLeaseToken = c.acquireLease ? c.leaseToken + 1 : c.leaseToken;
    const release = c.releaseLease || finished;
    const row = {
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
      release: release ? 1 : 0,
      leaseExpiresAt: c.leaseExpiresAt,
    };
    let advanced: { id: number } | undefined;
    if (c.create) {
      // An eager start writes its instance as the episode leaves it, in one INSERT: not a
      // Pending row and then an UPDATE of the status and lease columns it just wrote, with
      // their indexes (the costliest statement of a workflow at 500 in flight).
      const created = instances.createStarted(c.create, {
        status: c.status,
        output: row.output,
        failure: row.failure,
        customStatus: row.customStatus,
        now: c.now,
        completedAt: row.completedAt,
        historyLength: row.newLength,
        leaseOwner: release ? null : c.workerId,
        leaseToken: newLeaseToken,
        leaseExpiresAt: release ? null : c.leaseExpiresAt,
      });
      if (created instanceof Error) return { ok: false, reason: "refused", error: created };
      advanced = created;
    } else {
      const held = !c.acquireLease && !release && c.status === "Running";
      advanced = (held ? advanceHeld.get(row) : undefined) ?? advance.get(row);
    }
    if (!advanced) return { ok: false, reason: "lease-lost" };

    for (const id of c.consumedMessageIds) consumeMessage.run(id, c.instanceId);
    // A held task moved to activity_tasks if its lease ended or was released meanwhile.
    for (const id of c.completedTaskIds ?? []) if (!held.complete(c.instanceId, id)) deleteTask.run(id, c.instanceId);
    if (c.continueAsNew) {
      continueAsNew(c, advanced.id, c.continueAsNew);
      return { ok: true, taskIds: [], leased: [], leaseToken: newLeaseToken };
    }
    instances.appendEvents(advanced.id, c.historyLength, c.newEvents);
    if (finished) {
      // Nothing more can happen to a finished instance: drop what still waits for it.
      instances.clearPending(c.instanceId);
      const outcome = c.status === "Completed" ? { output: c.output } : { failure: failureOf(c) };
      if (instances.notifyParent(c.instanceId, outcome, c.now)) parentsNotified = true;
      return { ok: true, taskIds: [], leased: [], leaseToken: newLeaseToken };
    }
    for (const step of c.cancelledTimers) cancelTimer.run(c.instanceId, step);
    const leasedTasks: boolean[] = [];
    const taskIds = c.newTasks.map((task) => {
      const queue = task.queue ?? DEFAULT_QUEUE;
      // A limited queue's tasks go through claims, which apply its limits: no fast path for them.
      const leased = task.leaseToCommitter && !limitedInBatch.has(queue);
      leasedTasks.push(leased);
      const row = {
        id: newTaskIds.take(),
        instanceId: c.instanceId,
        executionId: c.executionId,
        step: task.step,
        attempt: task.attempt,
        name: task.name,
        input: encode(task.input, "input"),
        now: c.now,
        queue,
      };
      if (leased) held.hold({ ...row, leaseOwner: c.workerId, leaseExpiresAt: c.leaseExpiresAt });
      else insertTask.run(row);
      return row.id;
    });
    for (const timer of c.newTimers) {
      const fired = { type: "TimerFired" as const, timestamp: timer.fireAt, step: timer.step, fireAt: timer.fireAt };
      instances.send(c.instanceId, c.executionId, fired, timer.fireAt);
    }
    for (const child of c.newInstances) {
      const refusal = instances.create(child);
      if (refusal && child.parent) {
        const { step, attempt } = child.parent;
        const failed = { type: "SubOrchestrationInstanceFailed" as const, timestamp: c.now, step, attempt };
        instances.send(c.instanceId, c.executionId, { ...failed, failure: toFailureDetails(refusal) }, c.now);
      }
    }
    return { ok: true, taskIds, leased: leasedTasks, leaseToken: newLeaseToken };
  };
  const commitInSavepoint = db.transaction(commitOne);
  const commitAll = db.transaction((commits: EpisodeCommit[]) => commits.map(commitOne));

  return {
    /** True if episodes committed since the last call told a parent that a child finished (then resets). */
    takeParentNotices(): boolean {
      const notified = parentsNotified;
      parentsNotified = false;
      return notified;
    },

    /**
     * Applies the episodes in one savepoint; only if one of them throws, again each in its
     * own savepoint, so that one failure does not undo the others. (A savepoint per episode
     * on every batch cost ~15% of the CPU at 500 instances in flight.) A refused lease is
     * not a failure: it writes nothing and returns "lease-lost".
     */
    commit(commits: EpisodeCommit[]): EpisodeCommitResult[] {
      // Outside the savepoints below: a reservation is undone only with the whole transaction.
      newTaskIds.ensure(commits.reduce((sum, c) => sum + c.newTasks.length, 0));
      const asked = new Set<string>();
      for (const c of commits) for (const t of c.newTasks) if (t.leaseToCommitter) asked.add(t.queue ?? DEFAULT_QUEUE);
      limitedInBatch = asked.size > 0 ? queues.limited([...asked]) : new Map();
      try {
        return commitAll(commits);
      } catch {
        parentsNotified = false;
        return commits.map((c) => {
          try {
            return commitInSavepoint(c);
          } catch (error) {
            return { ok: false, reason: "error", error };
          }
        });
      }
    },

    deliver(deliveries: ActivityResultDelivery[], now: number): boolean[] {
      return deliveries.map((d) => {
        const completed =
          held.completeLeased(d.instanceId, d.taskId, d.leaseToken) ||
          deleteLeasedTask.run(d.taskId, d.leaseToken).changes > 0;
        if (!completed) return false;
        instances.send(d.instanceId, d.executionId, d.event, now);
        return true;
      });
    },
  };
}

function failureOf(c: EpisodeCommit) {
  return c.failure ?? { name: "Error", message: `Instance ended as ${c.status}` };
}
