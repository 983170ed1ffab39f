// The public API of Perdure. Stores live in their own entry points ("perdure/sqlite").

export {
  type Client,
  type ClientOptions,
  createClient,
  type InstancePageResult,
  type RestartOptions,
  type StartOptions,
  type TerminateOptions,
  type WaitOptions,
} from "./client/client.js";
export type { InstanceStatus } from "./client/instanceStatus.js";
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
  type OrchestrationOptions,
  type OutputOf,
  orchestration,
} from "./definitions/orchestration.js";
export { DEFAULT_QUEUE, type QueueLimits, type QueueSettings } from "./definitions/queue.js";
export type { RetryPolicy } from "./definitions/retryPolicy.js";
export type { EntityContext, SignalEntityOptions, StartOrchestrationOptions } from "./entities/context.js";
export {
  type AnyEntity,
  type EntityDefinition,
  type EntityOperation,
  type EntityOptions,
  entity,
  type OperationInput,
  type OperationName,
  type OperationResult,
} from "./entities/definition.js";
export type {
  EntityOperationEntry,
  EntityOperationsResult,
  EntityPageResult,
  EntityStatus,
  GetEntityOperationsOptions,
  ListEntitiesOptions,
} from "./entities/entityClient.js";
export {
  EntityCallNotAllowedError,
  EntityNotLockedError,
  EntityOperationFailedError,
  NestedCriticalSectionError,
  UnknownEntityError,
  UnknownEntityOperationError,
} from "./entities/errors.js";
export type { EntityRef } from "./entities/events.js";
export type { EntityLock, EntityLockTarget } from "./entities/orchestrationEntities.js";
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
export type {
  EntityCleanup,
  EntityOperationKind,
  EntityOperationSender,
} from "./store/entityStore.js";
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
  type WorkerStats,
} from "./worker/worker.js";
