import type { FailureDetails } from "../errors/failure.js";
import type { InstanceRecord, RuntimeStatus } from "../store/store.js";

/** What a client sees of an instance. */
export interface InstanceStatus<I = unknown, O = unknown> {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: I;
  /** The orchestration's result when Completed; the reason when Terminated. */
  output: O | undefined;
  customStatus: unknown;
  createdAt: Date;
  lastUpdatedAt: Date;
  completedAt?: Date;
  /** Why the instance failed, when Failed. */
  failure?: FailureDetails;
  /** The orchestration that started this one, for a sub-orchestration. */
  parentInstanceId?: string;
}

/** The client's view of a stored instance record. */
export function toStatus<I, O>(record: InstanceRecord): InstanceStatus<I, O> {
  const status: InstanceStatus<I, O> = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    input: record.input as I,
    output: record.output as O | undefined,
    customStatus: record.customStatus,
    createdAt: new Date(record.createdAt),
    lastUpdatedAt: new Date(record.lastUpdatedAt),
  };
  if (record.completedAt !== undefined) status.completedAt = new Date(record.completedAt);
  if (record.failure) status.failure = record.failure;
  if (record.parentInstanceId !== undefined) status.parentInstanceId = record.parentInstanceId;
  return status;
}
