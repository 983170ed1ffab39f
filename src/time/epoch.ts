import { InvalidArgumentError } from "../errors/errors.js";

/** Milliseconds since the epoch of a Date, refusing an invalid one. */
export function toEpochMs(value: Date, name: string): number {
  const time = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw new InvalidArgumentError(`${name} must be a valid Date.`);
  return time;
}
