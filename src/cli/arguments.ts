import { readFileSync } from "node:fs";
import { PerdureError } from "../errors/errors.js";
import type { RuntimeStatus } from "../store/store.js";
import { toMilliseconds } from "../time/duration.js";
import { CliError } from "./cliError.js";

const STATUSES: readonly RuntimeStatus[] = [
  "Pending",
  "Running",
  "Suspended",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
];

/** A JSON argument given inline (`'{"a":1}'`) or read from a file (`@input.json`). */
export function parseJsonArgument(text: string, what: string): unknown {
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (error) {
      throw new CliError("BAD_JSON", `${what}: cannot read ${text.slice(1)}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new CliError(
      "BAD_JSON",
      `${what} is not JSON (${(error as Error).message}). Quote strings as JSON, e.g. '"yes"', or pass @file.json.`,
    );
  }
}

/** A point in time: an ISO date/time ("2025-01-31", "2025-01-31T12:00Z") or a duration ago ("15m", "7d"). */
export function parseTime(text: string, what: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d|w)/.test(text.trim())) {
    try {
      return new Date(now - toMilliseconds(text, what));
    } catch (error) {
      if (!(error instanceof PerdureError)) throw error;
    }
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new CliError(
      "USAGE",
      `${what} "${text}" is not a time: use an ISO date such as 2025-01-31T12:00:00Z, or a duration ago such as 15m or 7d.`,
    );
  }
  return date;
}

/** Runtime statuses from `--status`, comma-separated and case-insensitive ("failed,terminated"). */
export function parseStatuses(text: string): RuntimeStatus[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const status = STATUSES.find((s) => s.toLowerCase() === part.toLowerCase());
      if (!status) throw new CliError("USAGE", `--status "${part}" is not a status; use ${STATUSES.join(", ")}.`);
      return status;
    });
}

/** A positive integer option such as `--limit`. */
export function parsePositiveInt(text: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new CliError("USAGE", `${what} must be a whole number from 1 to ${max}, got "${text}".`);
  }
  return value;
}
