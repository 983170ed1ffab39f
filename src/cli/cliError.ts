import { PerdureError } from "../errors/errors.js";

/**
 * Exit codes scripts can rely on:
 * - 0: the command did what was asked (for `start --wait`: the instance Completed).
 * - 1: the operation failed: the instance was not found, is in a state that forbids the
 *   action, Failed or was Terminated while waited for, the wait timed out, or the store
 *   could not be reached.
 * - 2: the command was used wrongly: unknown option, malformed JSON, bad instance id,
 *   unknown orchestration, unusable `--store` or `--app`.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Codes of the CLI's own errors (the engine's are PerdureError codes). */
export type CliErrorCode = "USAGE" | "BAD_JSON" | "STORE_NOT_FOUND" | "APP_MODULE";

/** A mistake in how the CLI was called; exits with code 2 unless told otherwise. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

/** PerdureError codes that mean "the input was wrong", not "the operation failed". */
const USAGE_CODES = new Set<string>([
  "INVALID_ARGUMENT",
  "INVALID_INSTANCE_ID",
  "NOT_SERIALIZABLE",
  "UNKNOWN_ORCHESTRATION",
  "NOT_A_PERDURE_DATABASE",
  "SCHEMA_TOO_NEW",
]);

/** The exit code for an error that ended a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof PerdureError) return USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILED;
  return EXIT_FAILED;
}

/** The stable code shown for an error: a PerdureError or CliError code, else the error's own `code` or name. */
export function codeOf(error: unknown): string {
  if (error instanceof CliError || error instanceof PerdureError) return error.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "ERROR";
}
