import { InvalidInstanceIdError } from "../errors/errors.js";

export const MAX_INSTANCE_ID_LENGTH = 256;

/**
 * Instance ids appear in URLs of the management API and in log lines, so they are kept
 * to printable text without the characters that URLs and paths give meaning to.
 */
export function checkInstanceId(id: unknown): string {
  if (typeof id !== "string") throw new InvalidInstanceIdError(`An instance id must be a string, got ${typeof id}.`);
  if (id.length === 0) throw new InvalidInstanceIdError("An instance id must not be empty.");
  if (id.length > MAX_INSTANCE_ID_LENGTH) {
    throw new InvalidInstanceIdError(
      `An instance id may have at most ${MAX_INSTANCE_ID_LENGTH} characters; this one has ${id.length}.`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  const bad = /[\u0000-\u001f\u007f/\\#?]/.exec(id);
  if (bad) {
    throw new InvalidInstanceIdError(
      `Instance id ${JSON.stringify(id)} contains ${JSON.stringify(bad[0])}; ids may not contain control characters, '/', '\\\\', '#' or '?'.`,
    );
  }
  return id;
}
