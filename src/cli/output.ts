import type { InstanceStatus } from "../client/instanceStatus.js";
import type { HistoryEvent } from "../history/events.js";
import { codeOf } from "./cliError.js";
import { type Paint, paint } from "./format.js";

/**
 * Where a command's result goes. With `--json`, stdout gets exactly one JSON document (the
 * result, or `{"error":{…}}`); otherwise text meant for people, coloured on a terminal.
 * Errors, progress and notes always go to stderr, so stdout stays clean for pipes.
 */
export class Output {
  readonly paint: Paint;

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.paint = paint(!json && stdout.isTTY === true && !process.env.NO_COLOR);
  }

  /** Writes the command's result: `value` as JSON, or the text of `human()`. */
  result(value: unknown, human: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else {
      const text = human();
      if (text !== "") this.stdout.write(`${text}\n`);
    }
  }

  /** A line for people on stderr (never part of a script's stdout). */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Reports an error: its code and message, and the stack only when asked (`--verbose`). */
  error(error: unknown, verbose: boolean): void {
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    const p = paint(this.stderr.isTTY === true && !process.env.NO_COLOR);
    this.stderr.write(`${p.red(`error ${code}`)}: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) this.stderr.write(`${error.stack}\n`);
    if (this.json) this.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  }
}

/** An instance status as JSON for scripts: times as ISO strings, absent fields left out. */
export function statusToJson(status: InstanceStatus): Record<string, unknown> {
  const json: Record<string, unknown> = {
    instanceId: status.instanceId,
    name: status.name,
    runtimeStatus: status.runtimeStatus,
    input: status.input ?? null,
    output: status.output ?? null,
    customStatus: status.customStatus ?? null,
    createdAt: status.createdAt.toISOString(),
    lastUpdatedAt: status.lastUpdatedAt.toISOString(),
  };
  if (status.completedAt) json.completedAt = status.completedAt.toISOString();
  if (status.failure) json.failure = status.failure;
  if (status.parentInstanceId !== undefined) json.parentInstanceId = status.parentInstanceId;
  return json;
}

/** A history event as JSON for scripts: `timestamp` (and a timer's `fireAt`) as ISO strings. */
export function eventToJson(event: HistoryEvent): Record<string, unknown> {
  const json: Record<string, unknown> = { ...event, timestamp: new Date(event.timestamp).toISOString() };
  if ("fireAt" in event) json.fireAt = new Date(event.fireAt).toISOString();
  return json;
}
