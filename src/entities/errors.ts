import { type ErrorLocation, PerdureError } from "../errors/errors.js";
import { type FailureDetails, fromFailureDetails } from "../errors/failure.js";

/** No entity of this name is registered with the worker (`createWorker({ entities })`). */
export class UnknownEntityError extends PerdureError {
  override name = "UnknownEntityError";
  readonly entityName: string;
  constructor(name: string, options: ErrorLocation = {}) {
    super(
      "UNKNOWN_ENTITY",
      `No entity named "${name}" is registered with this worker. Pass its definition in createWorker({ entities: [...] }).`,
      options,
    );
    this.entityName = name;
  }
}

/** The entity has no operation of this name. */
export class UnknownEntityOperationError extends PerdureError {
  override name = "UnknownEntityOperationError";
  readonly entityName: string;
  readonly operation: string;
  constructor(entityName: string, operation: string, known: readonly string[], options: ErrorLocation = {}) {
    super(
      "UNKNOWN_ENTITY_OPERATION",
      `Entity "${entityName}" has no operation "${operation}"; its operations are: ${known.join(", ") || "(none)"}.`,
      options,
    );
    this.entityName = entityName;
    this.operation = operation;
  }
}

/**
 * An entity operation called with `ctx.callEntity` threw. Thrown into the orchestration at
 * the awaiting call; `cause` is the operation's own error, rebuilt. The entity's state is as
 * it was before that operation.
 */
export class EntityOperationFailedError extends PerdureError {
  override name = "EntityOperationFailedError";
  readonly entityName: string;
  readonly entityKey: string;
  readonly operation: string;
  readonly failure: FailureDetails;
  constructor(
    entityName: string,
    entityKey: string,
    operation: string,
    failure: FailureDetails,
    options: ErrorLocation = {},
  ) {
    super(
      "ENTITY_OPERATION_FAILED",
      `Operation "${operation}" of entity ${entityName}@${entityKey} failed: ${failure.message}`,
      { ...options, cause: fromFailureDetails(failure) },
    );
    this.entityName = entityName;
    this.entityKey = entityKey;
    this.operation = operation;
    this.failure = failure;
  }
}

/** Inside a critical section, the orchestration called an entity that the section did not lock. */
export class EntityNotLockedError extends PerdureError {
  override name = "EntityNotLockedError";
  readonly entityName: string;
  readonly entityKey: string;
  constructor(
    entityName: string,
    entityKey: string,
    locked: readonly { name: string; key: string }[],
    where: ErrorLocation,
  ) {
    super(
      "ENTITY_NOT_LOCKED",
      `Entity ${entityName}@${entityKey} is called inside a critical section that did not lock it (it holds ${locked
        .map((e) => `${e.name}@${e.key}`)
        .join(
          ", ",
        )}). Inside a critical section only the locked entities can be called; lock it too, or call it after lock.release().`,
      where,
    );
    this.entityName = entityName;
    this.entityKey = entityKey;
  }
}

/** `ctx.lockEntities` was called while the orchestration already was in a critical section. */
export class NestedCriticalSectionError extends PerdureError {
  override name = "NestedCriticalSectionError";
  constructor(where: ErrorLocation) {
    super(
      "NESTED_CRITICAL_SECTION",
      "ctx.lockEntities was called inside a critical section. Critical sections cannot be nested: lock every entity you need in one ctx.lockEntities call, or release the first lock before taking another.",
      where,
    );
  }
}

/** An entity was called from where a durable two-way call cannot be made (an activity). */
export class EntityCallNotAllowedError extends PerdureError {
  override name = "EntityCallNotAllowedError";
  constructor(message: string, where: ErrorLocation = {}) {
    super("ENTITY_CALL_NOT_ALLOWED", message, where);
  }
}

/** What `ctx.callEntity` of an activity throws: activities run at least once and cannot wait durably. */
export function entityCallFromActivity(): never {
  throw new EntityCallNotAllowedError(
    "Activities cannot call entities: an activity may run more than once and cannot wait durably for an answer. Return what the entity needs and call it from the orchestration with ctx.callEntity, or signal it one-way with createClient({ store }).signalEntity (which a re-run of the activity repeats).",
  );
}
