import type Database from "better-sqlite3";
import { InstanceNotActiveError, InstanceNotFoundError, InvalidInstanceStateError } from "../../errors/errors.js";
import type { FailureDetails } from "../../errors/failure.js";
import { planRewind } from "../../history/rewind.js";
import { encode } from "../../history/serialization.js";
import type { NewEntityMessage } from "../entityStore.js";
import { isTerminal, type PurgeSelector, type RuntimeStatus, TERMINAL_STATUSES } from "../store.js";
import type { InstanceOperations } from "./instances.js";
import { rewindEntityOperations } from "./rewindEntities.js";

/**
 * What clients do to instances from outside: terminate, suspend, resume, rewind, raise an
 * event, purge. Each runs inside the caller's transaction. Every change of ownership bumps
 * the lease token, so a worker holding the instance in memory can no longer commit for it.
 */
export function managementOperations(
  db: Database.Database,
  instances: InstanceOperations,
  sendToEntities: (messages: NewEntityMessage[]) => void,
) {
  const entityRewind = rewindEntityOperations(db, sendToEntities);
  const fence = db.prepare(
    `UPDATE instances SET status = @status, updated_at = @now, lease_owner = NULL, lease_expires_at = NULL,
       lease_token = lease_token + 1
     WHERE instance_id = @instanceId`,
  );
  const finish = db.prepare(
    `UPDATE instances SET status = 'Terminated', output = @output, updated_at = @now, completed_at = @now,
       lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
     WHERE instance_id = @instanceId`,
  );
  const reopen = db.prepare(
    `UPDATE instances SET status = 'Running', output = NULL, failure = NULL, completed_at = NULL, updated_at = @now,
       history_length = @keep, lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
     WHERE instance_id = @instanceId RETURNING execution_id AS executionId`,
  );
  const children = db
    .prepare<[string], string>(
      `SELECT instance_id FROM instances WHERE parent_instance_id = ? AND status IN ('Pending', 'Running', 'Suspended')`,
    )
    .pluck();
  const insertTask = db.prepare(
    `INSERT INTO activity_tasks (instance_id, execution_id, step, attempt, name, input, visible_at, queue)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const executionOf = db.prepare<[string], string>("SELECT execution_id FROM instances WHERE instance_id = ?").pluck();
  const purgeWhere = db
    .prepare<{ from: number | null; to: number | null; statuses: string }, string>(
      `SELECT instance_id FROM instances
       WHERE status IN (SELECT value FROM json_each(@statuses))
         AND (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at < @to)`,
    )
    .pluck();

  /** The status of an instance that must exist. */
  const statusOf = (instanceId: string): RuntimeStatus => {
    const status = instances.status(instanceId);
    if (!status) throw new InstanceNotFoundError(instanceId);
    return status;
  };

  return {
    terminate(instanceId: string, reason: string, now: number): RuntimeStatus {
      const status = statusOf(instanceId);
      if (isTerminal(status)) return status;
      finish.run({ instanceId, output: JSON.stringify(reason), now });
      instances.append(instanceId, { type: "ExecutionTerminated", timestamp: now, reason });
      instances.clearPending(instanceId);
      const failure: FailureDetails = { name: "TerminatedError", message: `Terminated: ${reason}`, code: "TERMINATED" };
      instances.notifyParent(instanceId, { failure }, now);
      return status;
    },

    children(instanceId: string): string[] {
      return children.all(instanceId);
    },

    raiseEvent(instanceId: string, name: string, input: unknown, now: number): RuntimeStatus {
      const status = statusOf(instanceId);
      if (isTerminal(status)) throw new InstanceNotActiveError(instanceId, status, `raise event "${name}" on`);
      encode(input, `data of event "${name}"`, { instanceId });
      const executionId = executionOf.get(instanceId) as string;
      instances.send(instanceId, executionId, { type: "EventRaised", timestamp: now, name, input }, now);
      return status;
    },

    setSuspended(instanceId: string, suspended: boolean, reason: string, now: number): RuntimeStatus {
      const status = statusOf(instanceId);
      if (isTerminal(status)) throw new InstanceNotActiveError(instanceId, status, suspended ? "suspend" : "resume");
      if (suspended && status === "Suspended") {
        throw new InvalidInstanceStateError(instanceId, status, "suspend", "a Pending or Running instance");
      }
      if (!suspended && status !== "Suspended") {
        throw new InvalidInstanceStateError(instanceId, status, "resume", "a Suspended instance");
      }
      const next: RuntimeStatus = suspended ? "Suspended" : instances.hasStarted(instanceId) ? "Running" : "Pending";
      fence.run({ instanceId, status: next, now });
      instances.append(instanceId, {
        type: suspended ? "ExecutionSuspended" : "ExecutionResumed",
        timestamp: now,
        reason,
      });
      return status;
    },

    /** Rewinds a Failed instance; returns the failed sub-orchestrations to rewind as well. */
    rewind(instanceId: string, reason: string, now: number): string[] {
      const status = statusOf(instanceId);
      if (status !== "Failed") throw new InvalidInstanceStateError(instanceId, status, "rewind", "a Failed instance");
      const plan = planRewind(instances.history(instanceId), instanceId);
      // Checked before anything changes: a refused rewind leaves the instance as it was.
      const entityReplies = entityRewind.check(instanceId, executionOf.get(instanceId) as string, plan.entities);
      instances.cutHistory(instanceId, plan.keep);
      const { executionId } = reopen.get({ instanceId, keep: plan.keep, now }) as { executionId: string };
      instances.clearPending(instanceId);
      instances.send(instanceId, executionId, { type: "ExecutionRewound", timestamp: now, reason }, now);
      for (const event of [...plan.redeliver, ...entityReplies]) instances.send(instanceId, executionId, event, now);
      entityRewind.apply(instanceId, executionId, plan.entities, now);
      for (const a of plan.activities) {
        insertTask.run(instanceId, executionId, a.step, a.attempt, a.name, encode(a.input, "input"), now, a.queue);
      }
      for (const t of plan.timers) {
        instances.send(
          instanceId,
          executionId,
          { type: "TimerFired", timestamp: t.fireAt, step: t.step, fireAt: t.fireAt },
          t.fireAt,
        );
      }
      // A child that finished while the parent was failed: its outcome message was dropped with the parent's inbox.
      for (const child of plan.children) {
        if (plan.failedChildren.includes(child.instanceId)) continue;
        const record = instances.get(child.instanceId);
        if (!record || !isTerminal(record.runtimeStatus)) continue;
        const base = { timestamp: now, step: child.step, attempt: child.attempt };
        instances.send(
          instanceId,
          executionId,
          record.runtimeStatus === "Completed"
            ? { type: "SubOrchestrationInstanceCompleted", ...base, result: record.output }
            : {
                type: "SubOrchestrationInstanceFailed",
                ...base,
                failure: record.failure ?? { name: "Error", message: `${record.runtimeStatus}` },
              },
          now,
        );
      }
      return plan.failedChildren;
    },

    purge(selector: PurgeSelector): number {
      if ("instanceId" in selector) {
        const status = statusOf(selector.instanceId);
        if (!isTerminal(status)) {
          throw new InvalidInstanceStateError(
            selector.instanceId,
            status,
            "purge",
            "a Completed, Failed or Terminated instance",
          );
        }
        instances.remove(selector.instanceId);
        return 1;
      }
      const statuses = (selector.runtimeStatus ?? TERMINAL_STATUSES).filter(isTerminal);
      const ids = purgeWhere.all({
        from: selector.createdFrom ?? null,
        to: selector.createdTo ?? null,
        statuses: JSON.stringify(statuses),
      });
      for (const id of ids) instances.remove(id);
      return ids.length;
    },
  };
}
