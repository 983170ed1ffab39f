import { PerdureError } from "./errors.js";

/** A recorded error, as it is stored in history and shown in an instance's status. */
export interface FailureDetails {
  /** The error's class name, such as `TypeError` or `ActivityFailedError`. */
  name: string;
  message: string;
  stack?: string;
  /** The `code` property of the error, when it had one (Perdure codes, `ECONNRESET`, …). */
  code?: string;
  /** The error's `cause`, recorded the same way. */
  cause?: FailureDetails;
  /** The orchestration step the error came from (a failed activity or sub-orchestration call). */
  step?: number;
}

const MAX_CAUSE_DEPTH = 8;

/** Turns anything thrown into serialisable failure details, keeping causes. */
export function toFailureDetails(error: unknown, depth = 0): FailureDetails {
  if (error instanceof Error) {
    const details: FailureDetails = { name: error.name, message: error.message };
    if (error.stack !== undefined) details.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" || typeof code === "number") details.code = String(code);
    const step = (error as { step?: unknown }).step;
    if (typeof step === "number") details.step = step;
    if (error.cause !== undefined && depth < MAX_CAUSE_DEPTH) details.cause = toFailureDetails(error.cause, depth + 1);
    return details;
  }
  let message: string;
  try {
    message = typeof error === "string" ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { name: "Error", message };
}

/** Rebuilds an Error from recorded details, so that it can be thrown again with its stack and cause. */
export function fromFailureDetails(details: FailureDetails): Error {
  const error = new Error(details.message, details.cause ? { cause: fromFailureDetails(details.cause) } : undefined);
  error.name = details.name;
  if (details.stack !== undefined) error.stack = details.stack;
  if (details.code !== undefined) (error as Error & { code?: string }).code = details.code;
  if (details.step !== undefined) (error as Error & { step?: number }).step = details.step;
  return error;
}

/**
 * An activity failed (after its retries). Thrown into the orchestration at the awaiting
 * `callActivity`, where it can be caught; `cause` is the activity's own error, rebuilt.
 */
export class ActivityFailedError extends PerdureError {
  override name = "ActivityFailedError";
  readonly activityName: string;
  readonly attempts: number;
  readonly failure: FailureDetails;
  constructor(activityName: string, failure: FailureDetails, attempts: number, instanceId: string, step: number) {
    super("ACTIVITY_FAILED", `Activity "${activityName}" failed after ${attempts} attempt(s): ${failure.message}`, {
      instanceId,
      step,
      cause: fromFailureDetails(failure),
    });
    this.activityName = activityName;
    this.attempts = attempts;
    this.failure = failure;
  }
}

/** A sub-orchestration failed (after its retries); `cause` is its failure, rebuilt. */
export class SubOrchestrationFailedError extends PerdureError {
  override name = "SubOrchestrationFailedError";
  readonly orchestrationName: string;
  readonly childInstanceId: string;
  readonly attempts: number;
  readonly failure: FailureDetails;
  constructor(
    orchestrationName: string,
    childInstanceId: string,
    failure: FailureDetails,
    attempts: number,
    instanceId: string,
    step: number,
  ) {
    super(
      "SUB_ORCHESTRATION_FAILED",
      `Sub-orchestration "${orchestrationName}" (instance "${childInstanceId}") failed after ${attempts} attempt(s): ${failure.message}`,
      { instanceId, step, cause: fromFailureDetails(failure) },
    );
    this.orchestrationName = orchestrationName;
    this.childInstanceId = childInstanceId;
    this.attempts = attempts;
    this.failure = failure;
  }
}

/** `waitForCompletion` found the instance Failed; `failure` is what the orchestration threw. */
export class OrchestrationFailedError extends PerdureError {
  override name = "OrchestrationFailedError";
  readonly failure: FailureDetails;
  constructor(instanceId: string, failure: FailureDetails) {
    super("ORCHESTRATION_FAILED", `Orchestration "${instanceId}" failed: ${failure.message}`, {
      instanceId,
      cause: fromFailureDetails(failure),
    });
    this.failure = failure;
  }
}
