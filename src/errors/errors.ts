/**
 * Every error Perdure raises is a `PerdureError` with a stable `code`. Tests and callers
 * branch on `code` (or `instanceof`), never on message text, which may be reworded.
 */
export type PerdureErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_SERIALIZABLE"
  | "INVALID_INSTANCE_ID"
  | "INSTANCE_NOT_FOUND"
  | "INSTANCE_ALREADY_EXISTS"
  | "INSTANCE_NOT_ACTIVE"
  | "INVALID_INSTANCE_STATE"
  | "REWIND_NOT_POSSIBLE"
  | "UNKNOWN_ORCHESTRATION"
  | "UNKNOWN_ACTIVITY"
  | "NON_DETERMINISM"
  | "NON_DURABLE_AWAIT"
  | "ACTIVITY_FAILED"
  | "ACTIVITY_TIMEOUT"
  | "ACTIVITY_CANCELLED"
  | "SUB_ORCHESTRATION_FAILED"
  | "EVENT_TIMEOUT"
  | "TASK_ALREADY_AWAITED"
  | "ORCHESTRATION_FAILED"
  | "TIMEOUT"
  | "LEASE_LOST"
  | "NOT_A_PERDURE_DATABASE"
  | "SCHEMA_TOO_NEW"
  | "STORE_CLOSED"
  | "STORE_UNAVAILABLE"
  | "WORKER_STATE"
  // Durable entities (their classes are in src/entities/errors.ts).
  | "UNKNOWN_ENTITY"
  | "UNKNOWN_ENTITY_OPERATION"
  | "ENTITY_OPERATION_FAILED"
  | "ENTITY_NOT_LOCKED"
  | "NESTED_CRITICAL_SECTION"
  | "ENTITY_CALL_NOT_ALLOWED";

/** Where an error happened, when it concerns one instance and one of its steps. */
export interface ErrorLocation {
  instanceId?: string;
  /** Sequence number of the durable call (step) in the orchestration. */
  step?: number;
}

export class PerdureError extends Error {
  override name = "PerdureError";
  readonly code: PerdureErrorCode;
  readonly instanceId?: string;
  readonly step?: number;

  constructor(code: PerdureErrorCode, message: string, options: ErrorLocation & { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.instanceId !== undefined) this.instanceId = options.instanceId;
    if (options.step !== undefined) this.step = options.step;
  }
}

/** An argument to a Perdure API was malformed (a bad duration, an empty name, …). */
export class InvalidArgumentError extends PerdureError {
  override name = "InvalidArgumentError";
  constructor(message: string, options: ErrorLocation = {}) {
    super("INVALID_ARGUMENT", message, options);
  }
}

/** A value that must be stored (input, output, status) cannot be represented as JSON. */
export class NotSerializableError extends PerdureError {
  override name = "NotSerializableError";
  /** Path to the offending part of the value, such as `input.items[2].at`. */
  readonly path: string;
  constructor(path: string, problem: string, options: ErrorLocation = {}) {
    super(
      "NOT_SERIALIZABLE",
      `${path} ${problem}. Perdure stores inputs, outputs and statuses as JSON: use plain objects, arrays, strings, finite numbers, booleans and null.`,
      options,
    );
    this.path = path;
  }
}

export class InvalidInstanceIdError extends PerdureError {
  override name = "InvalidInstanceIdError";
  constructor(message: string) {
    super("INVALID_INSTANCE_ID", message);
  }
}

export class InstanceNotFoundError extends PerdureError {
  override name = "InstanceNotFoundError";
  constructor(instanceId: string) {
    super("INSTANCE_NOT_FOUND", `No instance with id "${instanceId}" exists in this store.`, { instanceId });
  }
}

export class InstanceAlreadyExistsError extends PerdureError {
  override name = "InstanceAlreadyExistsError";
  readonly runtimeStatus: string;
  constructor(instanceId: string, runtimeStatus: string) {
    const hint =
      runtimeStatus === "Pending" || runtimeStatus === "Running" || runtimeStatus === "Suspended"
        ? "It is still active: wait for it, terminate it, or choose another id."
        : "It has finished: pass { replaceIfFinished: true } to start a new run under the same id, or choose another id.";
    super("INSTANCE_ALREADY_EXISTS", `An instance with id "${instanceId}" already exists (${runtimeStatus}). ${hint}`, {
      instanceId,
    });
    this.runtimeStatus = runtimeStatus;
  }
}

/** The operation needs an active instance (Pending, Running, Suspended), and this one has finished. */
export class InstanceNotActiveError extends PerdureError {
  override name = "InstanceNotActiveError";
  readonly runtimeStatus: string;
  constructor(instanceId: string, runtimeStatus: string, operation: string) {
    super(
      "INSTANCE_NOT_ACTIVE",
      `Cannot ${operation} instance "${instanceId}": it has already finished (${runtimeStatus}).`,
      {
        instanceId,
      },
    );
    this.runtimeStatus = runtimeStatus;
  }
}

/** The operation does not apply to an instance in its current status (resume of a running one, …). */
export class InvalidInstanceStateError extends PerdureError {
  override name = "InvalidInstanceStateError";
  readonly runtimeStatus: string;
  constructor(instanceId: string, runtimeStatus: string, operation: string, needs: string) {
    super(
      "INVALID_INSTANCE_STATE",
      `Cannot ${operation} instance "${instanceId}": it is ${runtimeStatus}, and ${operation} needs ${needs}.`,
      {
        instanceId,
      },
    );
    this.runtimeStatus = runtimeStatus;
  }
}

/**
 * A Failed instance cannot be rewound safely, for the reason given (an entity lock another
 * orchestration holds now, an entity operation that replay would send a second time, …).
 * Nothing was changed: the instance is still Failed, and a later rewind may succeed.
 */
export class RewindNotPossibleError extends PerdureError {
  override name = "RewindNotPossibleError";
  readonly reason: string;
  constructor(instanceId: string, reason: string, options: { step?: number } = {}) {
    super("REWIND_NOT_POSSIBLE", `Cannot rewind instance "${instanceId}": ${reason}.`, { instanceId, ...options });
    this.reason = reason;
  }
}

export class UnknownOrchestrationError extends PerdureError {
  override name = "UnknownOrchestrationError";
  readonly orchestrationName: string;
  constructor(name: string, options: ErrorLocation = {}) {
    super(
      "UNKNOWN_ORCHESTRATION",
      `No orchestration named "${name}" is registered with this worker. Pass its definition in createWorker({ orchestrations: [...] }).`,
      options,
    );
    this.orchestrationName = name;
  }
}

export class UnknownActivityError extends PerdureError {
  override name = "UnknownActivityError";
  readonly activityName: string;
  constructor(name: string, options: ErrorLocation = {}) {
    super(
      "UNKNOWN_ACTIVITY",
      `No activity named "${name}" is registered with this worker. Pass its definition in createWorker({ activities: [...] }).`,
      options,
    );
    this.activityName = name;
  }
}

/** The orchestration code no longer matches its recorded history (replay diverged). */
export class NonDeterminismError extends PerdureError {
  override name = "NonDeterminismError";
  readonly codeDid: string;
  readonly historyHas: string;
  constructor(instanceId: string, step: number, codeDid: string, historyHas: string) {
    super(
      "NON_DETERMINISM",
      `Orchestration "${instanceId}" diverged from its history at step ${step}: the code ${codeDid}, but the history has ${historyHas}. Orchestration code must make the same durable calls in the same order on every replay; version changes with ctx.patched() or start new instances.`,
      { instanceId, step },
    );
    this.codeDid = codeDid;
    this.historyHas = historyHas;
  }
}

/**
 * An attempt of an activity ran longer than its definition's `timeout`. It fails the attempt
 * (the retry policy decides what comes next) and aborts the activity's `ctx.signal`.
 */
export class ActivityTimeoutError extends PerdureError {
  override name = "ActivityTimeoutError";
  readonly activityName: string;
  readonly timeoutMs: number;
  constructor(activityName: string, timeoutMs: number, attempt: number, options: ErrorLocation = {}) {
    super(
      "ACTIVITY_TIMEOUT",
      `Activity "${activityName}" did not finish within ${timeoutMs} ms (attempt ${attempt}); its ctx.signal was aborted and its result, if it still comes, is dropped.`,
      options,
    );
    this.activityName = activityName;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The reason an activity's `ctx.signal` is aborted when its instance is terminated: whatever
 * it returns now is dropped, so it may stop.
 */
export class ActivityCancelledError extends PerdureError {
  override name = "ActivityCancelledError";
  constructor(instanceId: string) {
    super(
      "ACTIVITY_CANCELLED",
      `Instance "${instanceId}" was terminated: the activity's result would be dropped, so it may stop.`,
      { instanceId },
    );
  }
}

/** The orchestration awaited something that is not a durable task (setTimeout, fetch, …). */
export class NonDurableAwaitError extends PerdureError {
  override name = "NonDurableAwaitError";
  constructor(instanceId: string) {
    super(
      "NON_DURABLE_AWAIT",
      `Orchestration "${instanceId}" is waiting on a promise that is not a durable task (such as setTimeout, fetch or file I/O). Orchestrations may only await ctx.callActivity, ctx.sleep and other ctx calls; move I/O into an activity.`,
      { instanceId },
    );
  }
}

/** `ctx.waitForEvent` gave up: the event did not arrive within its timeout. */
export class EventTimeoutError extends PerdureError {
  override name = "EventTimeoutError";
  readonly eventName: string;
  constructor(eventName: string, timeoutMs: number, options: ErrorLocation = {}) {
    super("EVENT_TIMEOUT", `Event "${eventName}" did not arrive within ${timeoutMs} ms.`, options);
    this.eventName = eventName;
  }
}

/** User code awaited one durable task twice; a durable result is consumed once. */
export class TaskAlreadyAwaitedError extends PerdureError {
  override name = "TaskAlreadyAwaitedError";
  constructor(description: string) {
    super(
      "TASK_ALREADY_AWAITED",
      `The durable task of ${description} was awaited twice. Await each durable task once and keep its result in a variable (task.result also holds it once it has completed).`,
    );
  }
}

export class TimeoutError extends PerdureError {
  override name = "TimeoutError";
  constructor(message: string, options: ErrorLocation = {}) {
    super("TIMEOUT", message, options);
  }
}

/** A commit carried a lease token that is no longer current: another worker owns the instance. */
export class LeaseLostError extends PerdureError {
  override name = "LeaseLostError";
  constructor(instanceId: string) {
    super("LEASE_LOST", `The lease on instance "${instanceId}" was lost; its commit was refused.`, { instanceId });
  }
}

export class NotAPerdureDatabaseError extends PerdureError {
  override name = "NotAPerdureDatabaseError";
  constructor(location: string, detail: string) {
    super(
      "NOT_A_PERDURE_DATABASE",
      `${location} is not a Perdure store: ${detail}. Point Perdure at a new file or at one it created; it never alters other databases.`,
    );
  }
}

export class SchemaTooNewError extends PerdureError {
  override name = "SchemaTooNewError";
  constructor(location: string, found: number, known: number) {
    super(
      "SCHEMA_TOO_NEW",
      `${location} has schema version ${found}, but this version of Perdure knows versions up to ${known}. Upgrade Perdure; an older version must not write to a newer schema.`,
    );
  }
}

export class StoreClosedError extends PerdureError {
  override name = "StoreClosedError";
  constructor() {
    super("STORE_CLOSED", "The store is closed.");
  }
}

/** The store's server cannot be reached (refused, timed out, connection lost). */
export class StoreUnavailableError extends PerdureError {
  override name = "StoreUnavailableError";
  /** Where the store tried to connect, such as "postgres://app@db:5432/prod (schema perdure)". */
  readonly location: string;
  constructor(location: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message || (cause as { code?: string }).code : String(cause);
    super(
      "STORE_UNAVAILABLE",
      `Cannot reach the store at ${location}: ${reason}. Check that the server is running and that the connection settings are right.`,
      { cause },
    );
    this.location = location;
  }
}

export class WorkerStateError extends PerdureError {
  override name = "WorkerStateError";
  constructor(message: string) {
    super("WORKER_STATE", message);
  }
}
