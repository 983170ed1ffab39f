import { MAX_INSTANCE_ID_LENGTH } from "../client/instanceId.js";
import type { RuntimeStatus } from "../store/store.js";
import { HttpError } from "./errors.js";

/*
 * JSON schemas for Fastify's validation of paths and query strings, and the conversions
 * that schemas cannot express. Schema failures become 400 INVALID_REQUEST.
 */

/** A boolean query parameter: true or false in any case (.NET tools send "True"). */
export const BOOLEAN = { type: "string", pattern: "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$" } as const;
/** A date and time query parameter; checked by `parseTime`. */
export const TIME = { type: "string", maxLength: 64 } as const;
/** A comma-separated list of runtime statuses; checked by `parseStatuses`. */
export const STATUS_LIST = { type: "string", maxLength: 200 } as const;
/** Seconds to wait (Durable Functions' `timeout` and `pollingInterval`), at most an hour. */
export const SECONDS = { type: "number", minimum: 0, maximum: 3600 } as const;
export const REASON = { type: "string", maxLength: 4096 } as const;
export const INSTANCE_ID = { type: "string", minLength: 1, maxLength: MAX_INSTANCE_ID_LENGTH } as const;
export const NAME = { type: "string", minLength: 1, maxLength: 256 } as const;

export function flag(value: string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : value.toLowerCase() === "true";
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Parses an ISO 8601 date or date-time; one without a zone is taken as UTC. */
export function parseTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const match = ISO_TIME.exec(value.trim());
  const text = match && value.includes(":") && match[1] === undefined ? `${value.trim()}Z` : value.trim();
  const ms = match ? Date.parse(text.replace(" ", "T")) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new HttpError(
      400,
      "INVALID_ARGUMENT",
      `${name} must be an ISO 8601 date or date-time such as 2030-01-31T12:00:00Z, got ${JSON.stringify(value.slice(0, 64))}.`,
    );
  }
  return new Date(ms);
}

const STATUSES: readonly RuntimeStatus[] = [
  "Pending",
  "Running",
  "Suspended",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
];

/**
 * Parses `runtimeStatus=Running,Pending`; an empty value is no filter. Durable Functions'
 * `Canceled` (never used) is accepted and matches nothing, so that filters written for it
 * still work: a list of only `Canceled` is `[]`, which matches no instance.
 */
export function parseStatuses(value: string | undefined): RuntimeStatus[] | undefined {
  if (value === undefined || value.trim().replaceAll(",", "") === "") return undefined;
  const statuses: RuntimeStatus[] = [];
  for (const part of value.split(",")) {
    const name = part.trim();
    if (name === "" || name === "Canceled") continue;
    if (!STATUSES.includes(name as RuntimeStatus)) {
      throw new HttpError(
        400,
        "INVALID_ARGUMENT",
        `runtimeStatus ${JSON.stringify(name.slice(0, 64))} is not a status; use a comma-separated list of ${STATUSES.join(", ")}.`,
      );
    }
    if (!statuses.includes(name as RuntimeStatus)) statuses.push(name as RuntimeStatus);
  }
  return statuses;
}
