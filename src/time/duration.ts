import { InvalidArgumentError } from "../errors/errors.js";

/** A length of time: milliseconds, or a string such as "500ms", "90s", "2h", "3d" or "1h30m". */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Converts a duration to milliseconds, refusing negative, non-finite and malformed values. */
export function toMilliseconds(duration: Duration, what = "duration"): number {
  if (typeof duration === "number") {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new InvalidArgumentError(`${what} must be a non-negative number of milliseconds, got ${duration}.`);
    }
    return duration;
  }
  if (typeof duration !== "string") {
    throw new InvalidArgumentError(`${what} must be milliseconds or a string like "90s", got ${typeof duration}.`);
  }
  const text = duration.trim();
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (text === "" || consumed !== text.length) {
    throw new InvalidArgumentError(
      `${what} "${duration}" is not a duration: use milliseconds or a number with a unit (ms, s, m, h, d, w), such as "90s", "2h" or "1h30m".`,
    );
  }
  return total;
}
