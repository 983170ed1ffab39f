import type Database from "better-sqlite3";
import { InstanceAlreadyExistsError, InstanceNotFoundError } from "../../errors/errors.js";
import type { HistoryEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import { type InstanceRecord, isTerminal, type NewInstance, type RuntimeStatus } from "../store.js";
import { type InstanceRow, toHistoryEvent, toInstanceRecord } from "./rows.js";

/** Client-side operations on instances: create, read, terminate. */
export function instanceOperations(db: Database.Database) {
  const selectStatus = db.prepare<[string], { status: RuntimeStatus }>(
    "SELECT status FROM instances WHERE instance_id = ?",
  );
  const deleteInstance = db.prepare("DELETE FROM instances WHERE instance_id = ?");
  const deleteHistory = db.prepare("DELETE FROM history WHERE instance_id = ?");
  const deleteInbox = db.prepare("DELETE FROM inbox WHERE instance_id = ?");
  const deleteTasks = db.prepare("DELETE FROM activity_tasks WHERE instance_id = ?");
  const insertInstance = db.prepare(
    `INSERT INTO instances (instance_id, name, execution_id, status, input, created_at, updated_at)
     VALUES (@instanceId, @name, @executionId, 'Pending', @input, @createdAt, @createdAt)`,
  );
  const insertMessage = db.prepare(
    "INSERT INTO inbox (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)",
  );
  const selectInstance = db.prepare<[string], InstanceRow>("SELECT * FROM instances WHERE instance_id = ?");
  const selectHistory = db
    .prepare<[string], string>("SELECT event FROM history WHERE instance_id = ? ORDER BY idx")
    .pluck();
  const terminate = db.prepare(
    `UPDATE instances SET status = 'Terminated', output = @output, updated_at = @now, completed_at = @now,
       history_length = history_length + 1, lease_owner = NULL, lease_expires_at = NULL, lease_token = lease_token + 1
     WHERE instance_id = @instanceId`,
  );
  const appendAtEnd = db.prepare(
    `INSERT INTO history (instance_id, idx, event)
     SELECT @instanceId, history_length - 1, @event FROM instances WHERE instance_id = @instanceId`,
  );

  /** Removes every trace of an instance's previous run. */
  const clear = (instanceId: string): void => {
    deleteHistory.run(instanceId);
    deleteInbox.run(instanceId);
    deleteTasks.run(instanceId);
  };

  return {
    /** Creates one instance (inside the caller's transaction); returns the refusal, if any. */
    create(request: NewInstance): Error | undefined {
      const existing = selectStatus.get(request.instanceId);
      if (existing) {
        if (!request.replaceIfFinished || !isTerminal(existing.status)) {
          return new InstanceAlreadyExistsError(request.instanceId, existing.status);
        }
        clear(request.instanceId);
        deleteInstance.run(request.instanceId);
      }
      const input = encode(request.input, "input");
      insertInstance.run({ ...request, input });
      const started: HistoryEvent = {
        type: "ExecutionStarted",
        timestamp: request.createdAt,
        name: request.name,
        input: request.input,
        executionId: request.executionId,
      };
      insertMessage.run(request.instanceId, request.executionId, request.createdAt, JSON.stringify(started));
      return undefined;
    },

    get(instanceId: string): InstanceRecord | undefined {
      const row = selectInstance.get(instanceId);
      return row ? toInstanceRecord(row) : undefined;
    },

    history(instanceId: string): HistoryEvent[] {
      return selectHistory.all(instanceId).map(toHistoryEvent);
    },

    /** Terminates an active instance (inside the caller's transaction); returns its prior status. */
    terminate(instanceId: string, reason: string, now: number): RuntimeStatus {
      const existing = selectStatus.get(instanceId);
      if (!existing) throw new InstanceNotFoundError(instanceId);
      if (isTerminal(existing.status)) return existing.status;
      terminate.run({ instanceId, output: JSON.stringify(reason), now });
      const event: HistoryEvent = { type: "ExecutionTerminated", timestamp: now, reason };
      appendAtEnd.run({ instanceId, event: JSON.stringify(event) });
      deleteInbox.run(instanceId);
      deleteTasks.run(instanceId);
      return existing.status;
    },
  };
}
