import { InstanceNotActiveError, InstanceNotFoundError, InvalidInstanceStateError } from "../../errors/errors.js";
import type { FailureDetails } from "../../errors/failure.js";
import type { IncomingEvent } from "../../history/events.js";
import { planRewind } from "../../history/rewind.js";
import { encode } from "../../history/serialization.js";
import type { NewEntityMessage } from "../entityStore.js";
import { isTerminal, type PurgeSelector, type RuntimeStatus, TERMINAL_STATUSES } from "../store.js";
import type { Tx } from "./connection.js";
import type { EntityTables } from "./entities.js";
import type { InstanceOperations, Message, ParentRow, Tables } from "./instances.js";
import { rewindEntityOperations } from "./rewindEntities.js";

/**
 * What clients do to instances from outside: terminate, suspend, resume, rewind, raise an
 * event, purge. Each runs inside the caller's transaction and starts by locking the
 * instance's row, so it cannot interleave with a worker's commit for the same instance.
 * Every change of ownership bumps the lease token, so a worker holding the instance in
 * memory can no longer commit for it.
 */
export function managementOperations(
  t: Tables,
  instances: InstanceOperations,
  e: EntityTables,
  sendToEntities: (tx: Tx, messages: NewEntityMessage[]) => Promise<void>,
) {
  const entityRewind = rewindEntityOperations(t, e, sendToEntities);
  const sql = {
    lock: `SELECT status, execution_id, parent_instance_id, parent_execution_id, parent_step, parent_attempt,
        instance_id FROM ${t.instances} WHERE instance_id = $1 FOR UPDATE`,
    fence: `UPDATE ${t.instances} SET status = $2, updated_at = $3, lease_owner = NULL, lease_expires_at = NULL,
        lease_token = lease_token + 1 WHERE instance_id = $1`,
    finish: `UPDATE ${t.instances} SET status = 'Terminated', output = $2, updated_at = $3, completed_at = $3,
        lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1 WHERE instance_id = $1`,
    reopen: `UPDATE ${t.instances} SET status = 'Running', output = NULL, failure = NULL, completed_at = NULL,
        updated_at = $3, history_length = $2, lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
      WHERE instance_id = $1`,
    cutHistory: `DELETE FROM ${t.history} WHERE instance_id = $1 AND idx >= $2`,
    hasStarted: `SELECT EXISTS (SELECT 1 FROM ${t.history} WHERE instance_id = $1
        AND (event::jsonb ->> 'type') = 'ExecutionStarted') AS started`,
    children: `SELECT instance_id FROM ${t.instances} WHERE parent_instance_id = $1
        AND status IN ('Pending', 'Running', 'Suspended')`,
    insertTasks: `INSERT INTO ${t.tasks} (instance_id, execution_id, step, attempt, name, input, visible_at, queue)
      SELECT $1, $2, r.step, r.attempt, r.name, r.input, $3, r.queue
      FROM unnest($4::int[], $5::int[], $6::text[], $7::text[], $8::text[]) AS r(step, attempt, name, input, queue)`,
    purgeWhere: `SELECT instance_id FROM ${t.instances} WHERE status = ANY($1::text[])
        AND ($2::bigint IS NULL OR created_at >= $2) AND ($3::bigint IS NULL OR created_at < $3)
      ORDER BY instance_id FOR UPDATE`,
  };

  type Locked = ParentRow & { status: RuntimeStatus; execution_id: string };
  /** Locks the row of an instance that must exist. */
  const lock = async (tx: Tx, instanceId: string): Promise<Locked> => {
    const { rows } = await tx.query<Locked>(sql.lock, [instanceId]);
    if (!rows[0]) throw new InstanceNotFoundError(instanceId);
    return rows[0];
  };

  return {
    async terminate(tx: Tx, instanceId: string, reason: string, now: number): Promise<RuntimeStatus> {
      const row = await lock(tx, instanceId);
      if (isTerminal(row.status)) return row.status;
      await tx.query(sql.finish, [instanceId, JSON.stringify(reason), now]);
      await instances.append(tx, instanceId, { type: "ExecutionTerminated", timestamp: now, reason });
      await instances.clearPending(tx, [instanceId]);
      const failure: FailureDetails = { name: "TerminatedError", message: `Terminated: ${reason}`, code: "TERMINATED" };
      await instances.send(tx, await instances.parentNotices(tx, [{ row, outcome: { failure }, now }]));
      return row.status;
    },

    async children(tx: Tx, instanceId: string): Promise<string[]> {
      return (await tx.query<{ instance_id: string }>(sql.children, [instanceId])).rows.map((r) => r.instance_id);
    },

    async raiseEvent(tx: Tx, instanceId: string, name: string, input: unknown, now: number): Promise<RuntimeStatus> {
      const row = await lock(tx, instanceId);
      if (isTerminal(row.status)) throw new InstanceNotActiveError(instanceId, row.status, `raise event "${name}" on`);
      encode(input, `data of event "${name}"`, { instanceId });
      const event: IncomingEvent = { type: "EventRaised", timestamp: now, name, input };
      await instances.send(tx, [{ instanceId, executionId: row.execution_id, event, visibleAt: now }]);
      return row.status;
    },

    /** Returns the status the instance had, and the one it has now. */
    async setSuspended(
      tx: Tx,
      instanceId: string,
      suspended: boolean,
      reason: string,
      now: number,
    ): Promise<{ previous: RuntimeStatus; next: RuntimeStatus }> {
      const { status } = await lock(tx, instanceId);
      if (isTerminal(status)) throw new InstanceNotActiveError(instanceId, status, suspended ? "suspend" : "resume");
      if (suspended && status === "Suspended") {
        throw new InvalidInstanceStateError(instanceId, status, "suspend", "a Pending or Running instance");
      }
      if (!suspended && status !== "Suspended") {
        throw new InvalidInstanceStateError(instanceId, status, "resume", "a Suspended instance");
      }
      let next: RuntimeStatus = "Suspended";
      if (!suspended) {
        const { rows } = await tx.query<{ started: boolean }>(sql.hasStarted, [instanceId]);
        next = rows[0]?.started ? "Running" : "Pending";
      }
      await tx.query(sql.fence, [instanceId, next, now]);
      await instances.append(tx, instanceId, {
        type: suspended ? "ExecutionSuspended" : "ExecutionResumed",
        timestamp: now,
        reason,
      });
      return { previous: status, next };
    },

    /** Rewinds a Failed instance; returns the failed sub-orchestrations to rewind as well. */
    async rewind(tx: Tx, instanceId: string, reason: string, now: number): Promise<string[]> {
      const { status, execution_id: executionId } = await lock(tx, instanceId);
      if (status !== "Failed") throw new InvalidInstanceStateError(instanceId, status, "rewind", "a Failed instance");
      const plan = planRewind(await instances.history(tx, instanceId), instanceId);
      // Checked before anything changes: a refused rewind leaves the instance as it was.
      const entityReplies = await entityRewind.check(tx, instanceId, executionId, plan.entities);
      await tx.query(sql.cutHistory, [instanceId, plan.keep]);
      await tx.query(sql.reopen, [instanceId, plan.keep, now]);
      await instances.clearPending(tx, [instanceId]);
      await entityRewind.apply(tx, instanceId, executionId, plan.entities, now);
      const events: IncomingEvent[] = [
        { type: "ExecutionRewound", timestamp: now, reason },
        ...plan.redeliver,
        ...entityReplies,
      ];
      const messages: Message[] = events.map((event) => ({ instanceId, executionId, event, visibleAt: now }));
      if (plan.activities.length > 0) {
        await tx.query(sql.insertTasks, [
          instanceId,
          executionId,
          now,
          plan.activities.map((a) => a.step),
          plan.activities.map((a) => a.attempt),
          plan.activities.map((a) => a.name),
          plan.activities.map((a) => encode(a.input, "input")),
          plan.activities.map((a) => a.queue),
        ]);
      }
      for (const timer of plan.timers) {
        const event: IncomingEvent = {
          type: "TimerFired",
          timestamp: timer.fireAt,
          step: timer.step,
          fireAt: timer.fireAt,
        };
        messages.push({ instanceId, executionId, event, visibleAt: timer.fireAt });
      }
      // A child that finished while the parent was failed: its outcome message was dropped with the parent's inbox.
      for (const child of plan.children) {
        if (plan.failedChildren.includes(child.instanceId)) continue;
        const record = await instances.get(tx, child.instanceId);
        if (!record || !isTerminal(record.runtimeStatus)) continue;
        const base = { timestamp: now, step: child.step, attempt: child.attempt };
        const event: IncomingEvent =
          record.runtimeStatus === "Completed"
            ? { type: "SubOrchestrationInstanceCompleted", ...base, result: record.output }
            : {
                type: "SubOrchestrationInstanceFailed",
                ...base,
                failure: record.failure ?? { name: "Error", message: `${record.runtimeStatus}` },
              };
        messages.push({ instanceId, executionId, event, visibleAt: now });
      }
      await instances.send(tx, messages);
      return plan.failedChildren;
    },

    async purge(tx: Tx, selector: PurgeSelector): Promise<number> {
      if ("instanceId" in selector) {
        const { status } = await lock(tx, selector.instanceId);
        if (!isTerminal(status)) {
          throw new InvalidInstanceStateError(
            selector.instanceId,
            status,
            "purge",
            "a Completed, Failed or Terminated instance",
          );
        }
        await instances.remove(tx, [selector.instanceId]);
        return 1;
      }
      const statuses = (selector.runtimeStatus ?? TERMINAL_STATUSES).filter(isTerminal);
      const { rows } = await tx.query<{ instance_id: string }>(sql.purgeWhere, [
        statuses,
        selector.createdFrom ?? null,
        selector.createdTo ?? null,
      ]);
      const ids = rows.map((r) => r.instance_id);
      await instances.remove(tx, ids);
      return ids.length;
    },
  };
}
