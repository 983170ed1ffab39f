import type { InstanceStatus } from "../client/instanceStatus.js";
import type { HistoryEvent } from "../history/events.js";
import type { RuntimeStatus } from "../store/store.js";
import { type HistoryEventJson, type HistoryJsonOptions, toHistoryJson } from "./historyJson.js";

/** Durable Functions' failure details, camel-cased as in its status payloads. */
export interface StatusFailureJson {
  errorType: string;
  errorMessage: string;
  errorCode?: string;
  stackTrace?: string;
  innerFailure?: StatusFailureJson;
}

/**
 * An instance as the management API shows it: Durable Functions' status payload. `input`,
 * `output` and `customStatus` are always present (null when empty), as its clients require.
 * `failureDetails` (Failed instances only) is Perdure's addition.
 */
export interface StatusJson {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: HistoryEventJson[];
  failureDetails?: StatusFailureJson;
}

export interface StatusJsonOptions extends HistoryJsonOptions {
  /** The instance's history, when `historyEvents` is wanted (`showHistory`). */
  history?: readonly HistoryEvent[];
}

function toFailureJson(failure: NonNullable<InstanceStatus["failure"]>, showStacks: boolean): StatusFailureJson {
  const json: StatusFailureJson = { errorType: failure.name, errorMessage: failure.message };
  if (failure.code !== undefined) json.errorCode = failure.code;
  if (showStacks && failure.stack !== undefined) json.stackTrace = failure.stack;
  if (failure.cause) json.innerFailure = toFailureJson(failure.cause, showStacks);
  return json;
}

/** Turns a client status into Durable Functions' status JSON. */
export function toStatusJson(status: InstanceStatus, options: StatusJsonOptions = {}): StatusJson {
  const failed = status.runtimeStatus === "Failed" && status.failure !== undefined;
  const json: StatusJson = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: options.showInput === false ? null : (status.input ?? null),
    customStatus: status.customStatus ?? null,
    // Durable Functions puts the error message of a failed orchestration in its output.
    output: failed ? status.failure?.message : (status.output ?? null),
    createdTime: status.createdAt.toISOString(),
    lastUpdatedTime: status.lastUpdatedAt.toISOString(),
  };
  if (options.history) json.historyEvents = toHistoryJson(options.history, options);
  if (failed && status.failure) json.failureDetails = toFailureJson(status.failure, options.showStacks === true);
  return json;
}
