import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import { InstanceAlreadyExistsError } from "../../errors/errors.js";
import type { FailureDetails } from "../../errors/failure.js";
import type { HistoryEvent, IncomingEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import { type InstanceRow, toHistoryEvent, toInstanceRecord } from "../sqlite/rows.js";
import {
  executionStartedEvent,
  type InstanceRecord,
  isTerminal,
  type NewInstance,
  type RuntimeStatus,
} from "../store.js";
import type { Tx } from "./connection.js";

/** Qualified table names of one store's schema. */
export interface Tables {
  instances: string;
  history: string;
  inbox: string;
  tasks: string;
  queues: string;
}

export function tablesIn(quotedSchema: string): Tables {
  const s = quotedSchema;
  return {
    instances: `${s}.instances`,
    history: `${s}.history`,
    inbox: `${s}.inbox`,
    tasks: `${s}.activity_tasks`,
    queues: `${s}.queues`,
  };
}

/** A future history event for an instance, visible from `visibleAt`. */
export interface Message {
  instanceId: string;
  executionId: string;
  event: IncomingEvent;
  visibleAt: number;
}

/** The parent link of an instance, as stored. */
export interface ParentRow {
  instance_id: string;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_step: number | null;
  parent_attempt: number | null;
}

/**
 * The basic operations on instances, shared by the client's and the worker's write paths.
 * Each takes many rows at once, so a group commit costs a few statements, not a few per
 * instance.
 */
export function instanceOperations(t: Tables) {
  const sql = {
    lockStatuses: `SELECT instance_id, status FROM ${t.instances} WHERE instance_id = ANY($1::text[])
                   ORDER BY instance_id FOR UPDATE`,
    // The instances, and their ExecutionStarted messages for those that did not exist yet.
    insertInstances: `WITH r AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
          $8::int[], $9::int[], $10::bigint[], $11::text[], $12::text[])
        AS r(id, name, execution_id, input, created_at, p_id, p_exec, p_step, p_attempt, visible_at, started, queue)),
      created AS (
        INSERT INTO ${t.instances} (instance_id, name, execution_id, status, input, created_at, updated_at,
          parent_instance_id, parent_execution_id, parent_step, parent_attempt, queue)
        SELECT id, name, execution_id, 'Pending', input, created_at, created_at, p_id, p_exec, p_step, p_attempt, queue
        FROM r
        ON CONFLICT (instance_id) DO NOTHING RETURNING instance_id),
      start_messages AS (
        INSERT INTO ${t.inbox} (instance_id, execution_id, visible_at, kind, event)
        SELECT r.id, r.execution_id, r.visible_at, 'ExecutionStarted', r.started FROM r
        WHERE r.id IN (SELECT instance_id FROM created) AND r.started IS NOT NULL)
      SELECT instance_id FROM created`,
    statuses: `SELECT instance_id, status FROM ${t.instances} WHERE instance_id = ANY($1::text[])`,
    insertMessages: `INSERT INTO ${t.inbox} (instance_id, execution_id, visible_at, kind, timer_step, event)
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[])`,
    selectInstance: `SELECT * FROM ${t.instances} WHERE instance_id = $1`,
    selectInstances: `SELECT * FROM ${t.instances} WHERE instance_id = ANY($1::text[])`,
    selectStatus: `SELECT status FROM ${t.instances} WHERE instance_id = $1`,
    selectHistory: `SELECT event FROM ${t.history} WHERE instance_id = $1 ORDER BY idx`,
    appendAtEnd: `UPDATE ${t.instances} SET history_length = history_length + 1 WHERE instance_id = $1
      RETURNING history_length - 1 AS idx`,
    insertEvent: `INSERT INTO ${t.history} (instance_id, idx, event) VALUES ($1, $2, $3)`,
    deleteInbox: `DELETE FROM ${t.inbox} WHERE instance_id = ANY($1::text[])`,
    deleteTasks: `DELETE FROM ${t.tasks} WHERE instance_id = ANY($1::text[])`,
    deleteHistory: `DELETE FROM ${t.history} WHERE instance_id = ANY($1::text[])`,
    deleteInstances: `DELETE FROM ${t.instances} WHERE instance_id = ANY($1::text[])`,
    parentStatuses: `SELECT instance_id, status FROM ${t.instances} WHERE instance_id = ANY($1::text[])`,
  };

  const operations = {
    /**
     * Creates instances in request order (inside the caller's transaction); returns the
     * refusal of each, if any. Rows are looked up (and locked) first only if a request may
     * replace a finished instance; otherwise the insert itself finds the ids that exist, so
     * a batch of new instances costs one statement.
     */
    async create(
      tx: Tx,
      requests: NewInstance[],
      { startMessage = true }: { startMessage?: boolean } = {},
    ): Promise<(Error | undefined)[]> {
      if (requests.length === 0) return [];
      const inputs = requests.map((r) => encode(r.input, "input"));
      const statuses = new Map<string, RuntimeStatus>();
      if (requests.some((r) => r.replaceIfFinished)) {
        const ids = [...new Set(requests.map((r) => r.instanceId))];
        const locked = await tx.query<{ instance_id: string; status: RuntimeStatus }>(sql.lockStatuses, [ids]);
        for (const row of locked.rows) statuses.set(row.instance_id, row.status);
      }
      const replaced: string[] = [];
      const created: number[] = [];
      const results: (Error | undefined)[] = requests.map((request, i) => {
        const existing = statuses.get(request.instanceId);
        if (existing) {
          if (!request.replaceIfFinished || !isTerminal(existing)) {
            return new InstanceAlreadyExistsError(request.instanceId, existing);
          }
          replaced.push(request.instanceId);
        }
        statuses.set(request.instanceId, "Pending");
        created.push(i);
        return undefined;
      });
      if (created.length === 0) return results;
      // Sent now, checked at commit: the transaction pipelines these ahead of the insert.
      operations.remove(tx, replaced).catch(() => undefined);
      const rows = created.map((i) => requests[i] as NewInstance);
      // An eager start's ExecutionStarted goes straight to history, in the caller's episode.
      const started = rows.map((request) => {
        if (!startMessage) return null;
        return JSON.stringify(executionStartedEvent(request));
      });
      const inserted = await tx.query<{ instance_id: string }>(
        sql.insertInstances,
        [
          rows.map((r) => r.instanceId),
          rows.map((r) => r.name),
          rows.map((r) => r.executionId),
          created.map((i) => inputs[i]),
          rows.map((r) => r.createdAt),
          rows.map((r) => r.parent?.instanceId ?? null),
          rows.map((r) => r.parent?.executionId ?? null),
          rows.map((r) => r.parent?.step ?? null),
          rows.map((r) => r.parent?.attempt ?? null),
          rows.map((r) => Math.max(r.createdAt, r.startAt ?? 0)),
          started,
          rows.map((r) => r.queue ?? DEFAULT_QUEUE),
        ],
        (created) => created.length > 0,
      );
      const won = new Set(inserted.rows.map((r) => r.instance_id));
      // Ids that existed (or that another transaction created meanwhile) are refused, with
      // the status they have, as are later requests for an id whose first request lost.
      const lost = created.filter((i) => !won.has((requests[i] as NewInstance).instanceId));
      if (lost.length > 0) {
        const ids = [...new Set(lost.map((i) => (requests[i] as NewInstance).instanceId))];
        const found = await tx.query<{ instance_id: string; status: RuntimeStatus }>(sql.statuses, [ids]);
        const current = new Map(found.rows.map((r) => [r.instance_id, r.status]));
        requests.forEach(({ instanceId }, i) => {
          if (won.has(instanceId) || !ids.includes(instanceId)) return;
          results[i] = new InstanceAlreadyExistsError(instanceId, current.get(instanceId) ?? "Pending");
        });
      }
      return results;
    },

    async get(tx: Tx, instanceId: string): Promise<InstanceRecord | undefined> {
      const { rows } = await tx.query<InstanceRow>(sql.selectInstance, [instanceId]);
      return rows[0] ? toInstanceRecord(rows[0]) : undefined;
    },

    /** Several instances in one statement, in the order asked (an id may be asked twice). */
    async getMany(tx: Tx, instanceIds: string[]): Promise<(InstanceRecord | undefined)[]> {
      const { rows } = await tx.query<InstanceRow>(sql.selectInstances, [[...new Set(instanceIds)]]);
      const byId = new Map(rows.map((row) => [row.instance_id, row]));
      return instanceIds.map((id) => {
        const row = byId.get(id);
        return row ? toInstanceRecord(row) : undefined;
      });
    },

    async status(tx: Tx, instanceId: string): Promise<RuntimeStatus | undefined> {
      const { rows } = await tx.query<{ status: RuntimeStatus }>(sql.selectStatus, [instanceId]);
      return rows[0]?.status;
    },

    async history(tx: Tx, instanceId: string): Promise<HistoryEvent[]> {
      const { rows } = await tx.query<{ event: string }>(sql.selectHistory, [instanceId]);
      return rows.map((r) => toHistoryEvent(r.event));
    },

    /** Queues future history events, in one statement. */
    async send(tx: Tx, messages: Message[]): Promise<void> {
      if (messages.length === 0) return;
      await tx.query(sql.insertMessages, [
        messages.map((m) => m.instanceId),
        messages.map((m) => m.executionId),
        messages.map((m) => m.visibleAt),
        messages.map((m) => m.event.type),
        messages.map((m) => (m.event.type === "TimerFired" ? m.event.step : null)),
        messages.map((m) => JSON.stringify(m.event)),
      ]);
    },

    /** Appends one event after the last (client-side events: suspension, termination). */
    async append(tx: Tx, instanceId: string, event: HistoryEvent): Promise<void> {
      const { rows } = await tx.query<{ idx: number }>(sql.appendAtEnd, [instanceId]);
      if (rows[0]) await tx.query(sql.insertEvent, [instanceId, rows[0].idx, JSON.stringify(event)]);
    },

    /** Drops what waits for instances that can no longer use it. */
    async clearPending(tx: Tx, instanceIds: string[]): Promise<void> {
      if (instanceIds.length === 0) return;
      await Promise.all([tx.query(sql.deleteInbox, [instanceIds]), tx.query(sql.deleteTasks, [instanceIds])]);
    },

    /** Deletes every trace of instances. */
    async remove(tx: Tx, instanceIds: string[]): Promise<void> {
      if (instanceIds.length === 0) return;
      await Promise.all([
        tx.query(sql.deleteHistory, [instanceIds]),
        operations.clearPending(tx, instanceIds),
        tx.query(sql.deleteInstances, [instanceIds]),
      ]);
    },

    /**
     * The messages that tell sub-orchestrations' parents how they ended. A finished parent
     * can no longer take the news (a rewind re-reads the child's outcome), so it gets none.
     */
    async parentNotices(
      tx: Tx,
      finished: { row: ParentRow; outcome: { output: unknown } | { failure: FailureDetails }; now: number }[],
    ): Promise<Message[]> {
      const children = finished.filter((f) => f.row.parent_instance_id && f.row.parent_execution_id);
      if (children.length === 0) return [];
      const parentIds = [...new Set(children.map((f) => f.row.parent_instance_id as string))];
      const { rows } = await tx.query<{ instance_id: string; status: RuntimeStatus }>(sql.parentStatuses, [parentIds]);
      const active = new Set(rows.filter((r) => !isTerminal(r.status)).map((r) => r.instance_id));
      return children
        .filter((f) => active.has(f.row.parent_instance_id as string))
        .map(({ row, outcome, now }) => {
          const base = { timestamp: now, step: row.parent_step ?? 0, attempt: row.parent_attempt ?? 1 };
          const event: IncomingEvent =
            "failure" in outcome
              ? { type: "SubOrchestrationInstanceFailed", ...base, failure: outcome.failure }
              : { type: "SubOrchestrationInstanceCompleted", ...base, result: outcome.output };
          return {
            instanceId: row.parent_instance_id as string,
            executionId: row.parent_execution_id as string,
            event,
            visibleAt: now,
          };
        });
    },
  };
  return operations;
}

export type InstanceOperations = ReturnType<typeof instanceOperations>;
