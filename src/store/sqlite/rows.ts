import type { FailureDetails } from "../../errors/failure.js";
import type { HistoryEvent } from "../../history/events.js";
import { decode } from "../../history/serialization.js";
import type { ActivityTask, InstanceRecord, RuntimeStatus } from "../store.js";

/** Column names as SQLite returns them. */
export interface InstanceRow {
  instance_id: string;
  name: string;
  execution_id: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  failure: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  parent_instance_id: string | null;
  queue: string;
}

export interface ActivityTaskRow {
  id: number;
  instance_id: string;
  execution_id: string;
  step: number;
  attempt: number;
  name: string;
  input: string | null;
  lease_token: number;
  queue: string;
  visible_at?: number;
}

export function toInstanceRecord(row: InstanceRow): InstanceRecord {
  const record: InstanceRecord = {
    instanceId: row.instance_id,
    name: row.name,
    executionId: row.execution_id,
    runtimeStatus: row.status,
    input: decode(row.input),
    output: decode(row.output),
    customStatus: decode(row.custom_status),
    createdAt: row.created_at,
    lastUpdatedAt: row.updated_at,
    queue: row.queue,
  };
  if (row.failure !== null) record.failure = decode(row.failure) as FailureDetails;
  if (row.completed_at !== null) record.completedAt = row.completed_at;
  if (row.parent_instance_id !== null) record.parentInstanceId = row.parent_instance_id;
  return record;
}

export function toActivityTask(row: ActivityTaskRow): ActivityTask {
  return {
    id: row.id,
    instanceId: row.instance_id,
    executionId: row.execution_id,
    step: row.step,
    attempt: row.attempt,
    name: row.name,
    input: decode(row.input),
    leaseToken: row.lease_token,
    queue: row.queue,
  };
}

export function toHistoryEvent(text: string): HistoryEvent {
  return JSON.parse(text) as HistoryEvent;
}

/** The events of one history row (a JSON array: an episode's events, in order). */
export function toHistoryEvents(text: string): HistoryEvent[] {
  return JSON.parse(text) as HistoryEvent[];
}
