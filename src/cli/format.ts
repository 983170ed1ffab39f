import type { InstanceStatus } from "../client/instanceStatus.js";
import type { FailureDetails } from "../errors/failure.js";
import type { HistoryEvent } from "../history/events.js";
import type { RuntimeStatus } from "../store/store.js";

// Plain-text rendering for terminals: tables, times, durations, status colours.

/** ANSI colours, applied only when the output is a terminal and NO_COLOR is not set. */
export interface Paint {
  status(status: RuntimeStatus): string;
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  green(text: string): string;
}

const STATUS_COLOUR: Record<RuntimeStatus, number> = {
  Pending: 90,
  Running: 36,
  Suspended: 33,
  Completed: 32,
  Failed: 31,
  Terminated: 35,
  ContinuedAsNew: 34,
};

export function paint(enabled: boolean): Paint {
  const wrap = (code: number, text: string): string => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    status: (status) => wrap(STATUS_COLOUR[status] ?? 0, status),
    dim: (text) => wrap(2, text),
    bold: (text) => wrap(1, text),
    red: (text) => wrap(31, text),
    green: (text) => wrap(32, text),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ANSI, "").length;
}

/** A table with a header row, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][], p: Paint): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => visibleLength(row[i] ?? ""))));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visibleLength(cell))))
      .join("  ")
      .trimEnd();
  return [p.bold(line(headers)), ...rows.map(line)].join("\n");
}

/** `label: value` lines with the labels aligned. */
export function fields(entries: [string, string][], p: Paint): string {
  const width = Math.max(...entries.map(([label]) => label.length)) + 1;
  return entries.map(([label, value]) => `${p.dim(`${label}:`.padEnd(width))} ${value}`).join("\n");
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** Local time as `2025-01-31 14:05:09`. */
export function formatTime(time: Date | number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A duration for people: `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor(s / 3_600) % 24}h`;
}

/** A JSON value on one line, cut to `max` characters for table cells. */
export function formatValue(value: unknown, max = Number.POSITIVE_INFINITY): string {
  if (value === undefined) return "";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** A failure as `Name [CODE]: message`, with its causes on following lines. */
export function formatFailure(failure: FailureDetails): string {
  const lines: string[] = [];
  for (let f: FailureDetails | undefined = failure, depth = 0; f; f = f.cause, depth++) {
    const code = f.code ? ` [${f.code}]` : "";
    lines.push(`${depth === 0 ? "" : `${"  ".repeat(depth)}caused by `}${f.name}${code}: ${f.message}`);
  }
  return lines.join("\n");
}

/** The instance block of `perdure status`. */
export function formatStatus(status: InstanceStatus, p: Paint): string {
  const entries: [string, string][] = [
    ["Instance", status.instanceId],
    ["Name", status.name],
    ["Status", p.status(status.runtimeStatus)],
    ["Created", formatTime(status.createdAt)],
    ["Updated", formatTime(status.lastUpdatedAt)],
  ];
  if (status.completedAt) {
    const took = status.completedAt.getTime() - status.createdAt.getTime();
    entries.push(["Completed", `${formatTime(status.completedAt)} (after ${formatDuration(took)})`]);
  }
  if (status.parentInstanceId !== undefined) entries.push(["Parent", status.parentInstanceId]);
  entries.push(["Input", formatValue(status.input)]);
  if (status.customStatus !== undefined && status.customStatus !== null) {
    entries.push(["Custom status", formatValue(status.customStatus)]);
  }
  if (status.output !== undefined) entries.push(["Output", formatValue(status.output)]);
  if (status.failure) entries.push(["Failure", p.red(formatFailure(status.failure).replace(/\n/g, "\n  "))]);
  return fields(entries, p);
}

/** What an event is about, in a few words, for the history table. */
export function describeHistoryDetail(event: HistoryEvent): string {
  switch (event.type) {
    case "ExecutionStarted":
      return `${event.name} ${formatValue(event.input, 60)}`;
    case "TaskScheduled":
      return `${event.name}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""} ${formatValue(event.input, 50)}`;
    case "TaskCompleted":
    case "SubOrchestrationInstanceCompleted":
      return formatValue(event.result, 60);
    case "TaskFailed":
    case "SubOrchestrationInstanceFailed":
    case "ExecutionFailed":
      return `${event.failure.name}: ${event.failure.message}`;
    case "TimerCreated":
      return `fires after ${formatDuration(event.fireAt - event.timestamp)}${event.attempt === undefined ? "" : ` (retry wait before attempt ${event.attempt})`}`;
    case "SubOrchestrationInstanceCreated":
      return `${event.name} → ${event.instanceId}`;
    case "EventRaised":
      return `${event.name} ${formatValue(event.input, 60)}`;
    case "PatchApplied":
      return event.patchId;
    case "ExecutionSuspended":
    case "ExecutionResumed":
    case "ExecutionRewound":
    case "ExecutionTerminated":
      return event.reason;
    case "ExecutionCompleted":
      return formatValue(event.output, 60);
    case "ExecutionContinuedAsNew":
      return formatValue(event.input, 60);
    default:
      return "";
  }
}

/**
 * The history table: one row per event (numbered by its place in the history), with the
 * time since the instance started. The OrchestratorStarted marker that opens every episode
 * is left out unless `all` is set: it says when the worker ran, not what happened.
 */
export function formatHistory(events: HistoryEvent[], p: Paint, all = false): string {
  const start = events[0]?.timestamp ?? 0;
  const rows = events
    .map((event, index) => ({ event, index }))
    .filter(({ event }) => all || event.type !== "OrchestratorStarted")
    .map(({ event, index }) => [
      String(index),
      `+${formatDuration(event.timestamp - start)}`,
      event.type,
      "step" in event ? String(event.step) : "",
      describeHistoryDetail(event),
    ]);
  return table(["#", "AT", "EVENT", "STEP", "DETAIL"], rows, p);
}
