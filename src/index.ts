// The public API of Perdure. Stores live in their own entry points ("perdure/sqlite").

export {
  type Client,
  type ClientOptions,
  createClient,
  type InstancePageResult,
  type InstanceStatus,
  type RestartOptions,
  type StartOptions,
  type TerminateOptions,
  type WaitOptions,
} from "./client/client.js";
export type { ListOptions } from "./client/listQuery.js";
export {
  type ActivityContext,
  type ActivityDefinition,
  type ActivityFunction,
  type ActivityOptions,
  activity,
} from "./definitions/activity.js";
export {
  type InputOf,
  type OrchestrationDefinition,
  type OrchestrationFunction,
  type OutputOf,
  orchestration,
} from "./definitions/orchestration.js";
export type { RetryPolicy } from "./definitions/retryPolicy.js";
export * from "./errors/errors.js";
export {
  ActivityFailedError,
  type FailureDetails,
  OrchestrationFailedError,
  SubOrchestrationFailedError,
} from "./errors/failure.js";
export type { HistoryEvent, HistoryEventType } from "./history/events.js";
export type { Json } from "./history/serialization.js";
export type { ActivityCallArgs, CallActivityOptions, OrchestrationContext } from "./orchestration/context.js";
export type { DurableTask } from "./orchestration/durableTask.js";
export { type Logger, silentLogger } from "./orchestration/logger.js";
export type { RuntimeStatus, Store, StoreNotification } from "./store/store.js";
export type { Duration } from "./time/duration.js";
export { toMilliseconds } from "./time/duration.js";
export {
  type AnyActivity,
  type AnyOrchestration,
  createWorker,
  type Worker,
  type WorkerOptions,
  type WorkerState,
} from "./worker/worker.js";
