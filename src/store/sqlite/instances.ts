import type Database from "better-sqlite3";
import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import { InstanceAlreadyExistsError } from "../../errors/errors.js";
import type { FailureDetails } from "../../errors/failure.js";
import type { HistoryEvent, IncomingEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import {
  executionStartedEvent,
  type InstanceRecord,
  isTerminal,
  type NewInstance,
  type RuntimeStatus,
} from "../store.js";
import { type InstanceRow, toHistoryEvents, toInstanceRecord } from "./rows.js";

interface ParentRow {
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_step: number | null;
  parent_attempt: number | null;
}

/** The basic operations on instances, shared by the client's and the worker's write paths. */
export function instanceOperations(db: Database.Database) {
  const selectStatus = db.prepare<[string], { status: RuntimeStatus }>(
    "SELECT status FROM instances WHERE instance_id = ?",
  );
  const deleteInstance = db.prepare("DELETE FROM instances WHERE instance_id = ?");
  // History rows hang off the instance's integer key (see migration 0005).
  const deleteHistory = db.prepare(
    "DELETE FROM history WHERE instance = (SELECT id FROM instances WHERE instance_id = ?)",
  );
  const deleteInbox = db.prepare("DELETE FROM inbox WHERE instance_id = ?");
  const deleteTasks = db.prepare("DELETE FROM activity_tasks WHERE instance_id = ?");
  const deleteHeldTasks = db.prepare("DELETE FROM held_tasks WHERE instance_id = ?");
  const insertInstance = db.prepare(
    `INSERT INTO instances (instance_id, name, execution_id, status, input, created_at, updated_at,
       parent_instance_id, parent_execution_id, parent_step, parent_attempt, queue)
     VALUES (@instanceId, @name, @executionId, 'Pending', @input, @createdAt, @createdAt,
       @parentInstanceId, @parentExecutionId, @parentStep, @parentAttempt, @queue)`,
  );
  // An eager start's instance, written as its first episode leaves it (see episodes.ts). Its
  // key is the insert's rowid: RETURNING made this INSERT ~20 us slower.
  const insertStarted = db.prepare<Record<string, unknown>>(
    `INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status, failure,
       created_at, updated_at, completed_at, history_length, lease_owner, lease_token, lease_expires_at,
       parent_instance_id, parent_execution_id, parent_step, parent_attempt, queue)
     VALUES (@instanceId, @name, @executionId, @status, @input, @output, @customStatus, @failure,
       @createdAt, @now, @completedAt, @historyLength, @leaseOwner, @leaseToken, @leaseExpiresAt,
       @parentInstanceId, @parentExecutionId, @parentStep, @parentAttempt, @queue)`,
  );
  const insertMessage = db.prepare(
    "INSERT INTO inbox (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)",
  );
  const selectInstance = db.prepare<[string], InstanceRow>("SELECT * FROM instances WHERE instance_id = ?");
  const selectHistory = db
    .prepare<[string], string>(
      "SELECT events FROM history WHERE instance = (SELECT id FROM instances WHERE instance_id = ?) ORDER BY idx",
    )
    .pluck();
  const selectParent = db.prepare<[string], ParentRow>(
    "SELECT parent_instance_id, parent_execution_id, parent_step, parent_attempt FROM instances WHERE instance_id = ?",
  );
  const appendAtEnd = db.prepare<{ instanceId: string }, { key: number; idx: number }>(
    `UPDATE instances SET history_length = history_length + 1 WHERE instance_id = @instanceId
     RETURNING id AS key, history_length - 1 AS idx`,
  );
  const insertEvents = db.prepare<[number, number, string]>(
    "INSERT INTO history (instance, idx, events) VALUES (?, ?, ?)",
  );
  // A cut inside a row keeps the row's events before it (rows hold several events each).
  const lastKeptRow = db.prepare<[string, number], { id: number; idx: number; events: string }>(
    `SELECT h.id, h.idx, h.events FROM history h
     WHERE h.instance = (SELECT id FROM instances WHERE instance_id = ?) AND h.idx < ?
     ORDER BY h.idx DESC LIMIT 1`,
  );
  const deleteFrom = db.prepare<[string, number]>(
    "DELETE FROM history WHERE instance = (SELECT id FROM instances WHERE instance_id = ?) AND idx >= ?",
  );
  const rewriteRow = db.prepare<[string, number]>("UPDATE history SET events = ? WHERE id = ?");
  const hasStarted = db
    .prepare<[string], number>(
      `SELECT EXISTS (SELECT 1 FROM history h, json_each(h.events) e
         WHERE h.instance = (SELECT id FROM instances WHERE instance_id = ?)
           AND json_extract(e.value, '$.type') = 'ExecutionStarted')`,
    )
    .pluck();

  const operations = {
    /** Creates one instance (inside the caller's transaction); returns the refusal, if any. */
    create(request: NewInstance): Error | undefined {
      const refusal = makeRoom(request);
      if (refusal) return refusal;
      insertInstance.run(newRow(request));
      const visibleAt = Math.max(request.createdAt, request.startAt ?? 0);
      operations.send(request.instanceId, request.executionId, executionStartedEvent(request), visibleAt);
      return undefined;
    },

    /**
     * Creates an eagerly started instance in the state its first episode leaves it in, in
     * one INSERT; returns its key, or the refusal. `state` holds the columns the episode sets.
     */
    createStarted(request: NewInstance, state: StartedState): { id: number } | Error {
      const refusal = makeRoom(request);
      if (refusal) return refusal;
      return { id: Number(insertStarted.run({ ...newRow(request), ...state }).lastInsertRowid) };
    },

    get(instanceId: string): InstanceRecord | undefined {
      const row = selectInstance.get(instanceId);
      return row ? toInstanceRecord(row) : undefined;
    },

    status(instanceId: string): RuntimeStatus | undefined {
      return selectStatus.get(instanceId)?.status;
    },

    history(instanceId: string): HistoryEvent[] {
      return selectHistory.all(instanceId).flatMap(toHistoryEvents);
    },

    /** Inside a transaction: appends events recorded by an episode, as one row. */
    appendEvents(instanceKey: number, fromIndex: number, events: HistoryEvent[]): void {
      if (events.length > 0) insertEvents.run(instanceKey, fromIndex, JSON.stringify(events));
    },

    /** Keeps the first `keep` events of an instance's history, drops the rest. */
    cutHistory(instanceId: string, keep: number): void {
      deleteFrom.run(instanceId, keep);
      const last = lastKeptRow.get(instanceId, keep);
      if (!last) return;
      const events = toHistoryEvents(last.events);
      if (last.idx + events.length > keep) rewriteRow.run(JSON.stringify(events.slice(0, keep - last.idx)), last.id);
    },

    /** Whether the instance's current execution has started (its ExecutionStarted is in history). */
    hasStarted(instanceId: string): boolean {
      return hasStarted.get(instanceId) === 1;
    },

    /** Queues a future history event for an instance. */
    send(instanceId: string, executionId: string, event: IncomingEvent, visibleAt: number): void {
      insertMessage.run(instanceId, executionId, visibleAt, JSON.stringify(event));
    },

    /** Appends one event after the last (client-side events: suspension, termination). */
    append(instanceId: string, event: HistoryEvent): void {
      const row = appendAtEnd.get({ instanceId });
      if (row) insertEvents.run(row.key, row.idx, JSON.stringify([event]));
    },

    /** Drops what waits for an instance that can no longer use it. */
    clearPending(instanceId: string): void {
      deleteInbox.run(instanceId);
      operations.clearTasks(instanceId);
    },

    /** Drops an instance's activity tasks, queued or running. */
    clearTasks(instanceId: string): void {
      deleteTasks.run(instanceId);
      deleteHeldTasks.run(instanceId);
    },

    /** Deletes every trace of an instance. */
    remove(instanceId: string): void {
      deleteHistory.run(instanceId);
      operations.clearPending(instanceId);
      deleteInstance.run(instanceId);
    },

    /** Tells a sub-orchestration's parent how it ended (inside the finishing transaction); true if it did. */
    notifyParent(instanceId: string, outcome: { output: unknown } | { failure: FailureDetails }, now: number): boolean {
      const row = selectParent.get(instanceId);
      if (!row?.parent_instance_id || !row.parent_execution_id) return false;
      // A finished parent can no longer take the news (a rewind re-reads the child's outcome).
      const parentStatus = operations.status(row.parent_instance_id);
      if (!parentStatus || isTerminal(parentStatus)) return false;
      const base = { timestamp: now, step: row.parent_step ?? 0, attempt: row.parent_attempt ?? 1 };
      const event: IncomingEvent =
        "failure" in outcome
          ? { type: "SubOrchestrationInstanceFailed", ...base, failure: outcome.failure }
          : { type: "SubOrchestrationInstanceCompleted", ...base, result: outcome.output };
      operations.send(row.parent_instance_id, row.parent_execution_id, event, now);
      return true;
    },
  };
  /** Refuses an id that exists, unless it may replace a finished instance: then removes that one. */
  function makeRoom(request: NewInstance): Error | undefined {
    const existing = selectStatus.get(request.instanceId);
    if (!existing) return undefined;
    if (!request.replaceIfFinished || !isTerminal(existing.status)) {
      return new InstanceAlreadyExistsError(request.instanceId, existing.status);
    }
    operations.remove(request.instanceId);
    return undefined;
  }

  return operations;
}

/** The columns of a new instance that come from its request. */
function newRow(request: NewInstance): Record<string, unknown> {
  const { parent } = request;
  return {
    instanceId: request.instanceId,
    name: request.name,
    executionId: request.executionId,
    input: encode(request.input, "input"),
    createdAt: request.createdAt,
    parentInstanceId: parent?.instanceId ?? null,
    parentExecutionId: parent?.executionId ?? null,
    parentStep: parent?.step ?? null,
    parentAttempt: parent?.attempt ?? null,
    queue: request.queue ?? DEFAULT_QUEUE,
  };
}

/** What an eager start's first episode sets on its instance. */
export interface StartedState {
  status: string;
  output: string | null;
  failure: string | null;
  customStatus: string | null;
  now: number;
  completedAt: number | null;
  historyLength: number;
  leaseOwner: string | null;
  leaseToken: number;
  leaseExpiresAt: number | null;
}

export type InstanceOperations = ReturnType<typeof instanceOperations>;
