import type { Client } from "../client/client.js";
import type { InstanceStatus } from "../client/instanceStatus.js";
import { InstanceNotFoundError, TimeoutError } from "../errors/errors.js";
import type { HistoryEvent } from "../history/events.js";
import { isTerminal } from "../store/store.js";
import { formatDuration, formatValue } from "./format.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const POLL_MS = 400;

export interface WaitProgressOptions {
  /** Give up after this long with a TimeoutError. */
  timeoutMs?: number;
  /** Where progress goes: stderr, so that stdout keeps only the result. */
  stream?: NodeJS.WriteStream;
}

/**
 * Waits until an instance finishes, showing progress on stderr: on a terminal one line
 * redrawn in place (spinner, status, activities done, custom status, time waited); else a
 * line whenever the status changes. The instance is run by whatever worker serves the store.
 */
export async function waitWithProgress(
  client: Client,
  instanceId: string,
  options: WaitProgressOptions = {},
): Promise<InstanceStatus> {
  const stream = options.stream ?? process.stderr;
  const live = stream.isTTY === true;
  const started = Date.now();
  let frame = 0;
  let lastStatus = "";
  const clear = (): void => {
    if (live) stream.write("\r\u001b[2K");
  };
  try {
    for (;;) {
      const status = await client.getStatus(instanceId);
      if (!status) throw new InstanceNotFoundError(instanceId);
      if (isTerminal(status.runtimeStatus)) return status;
      const waited = Date.now() - started;
      if (options.timeoutMs !== undefined && waited >= options.timeoutMs) {
        throw new TimeoutError(
          `Instance "${instanceId}" is still ${status.runtimeStatus} after ${formatDuration(waited)}.`,
          {
            instanceId,
          },
        );
      }
      if (live) {
        const steps = summarize(await client.getHistory(instanceId));
        const custom = status.customStatus == null ? "" : ` · ${formatValue(status.customStatus, 40)}`;
        const columns = stream.columns ?? 100;
        const line = `${FRAMES[frame++ % FRAMES.length]} ${instanceId} ${status.runtimeStatus} · ${steps}${custom} · ${formatDuration(waited)}`;
        stream.write(`\r\u001b[2K${line.slice(0, columns - 1)}`);
      } else if (status.runtimeStatus !== lastStatus) {
        stream.write(`${instanceId}: ${status.runtimeStatus}\n`);
      }
      lastStatus = status.runtimeStatus;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    clear();
  }
}

/** "3/5 activities done, 1 timer waiting" from the history so far. */
function summarize(history: HistoryEvent[]): string {
  const scheduled = new Set<number>();
  const done = new Set<number>();
  const timers = new Set<number>();
  for (const event of history) {
    if (event.type === "TaskScheduled") {
      // A retry schedules the same step again: it is not done until its last attempt ends.
      scheduled.add(event.step);
      done.delete(event.step);
    } else if (event.type === "TaskCompleted" || event.type === "TaskFailed") done.add(event.step);
    else if (event.type === "TimerCreated") timers.add(event.step);
    else if (event.type === "TimerFired") timers.delete(event.step);
  }
  const parts = [`${done.size}/${scheduled.size} activities done`];
  if (timers.size > 0) parts.push(`${timers.size} timer${timers.size === 1 ? "" : "s"} waiting`);
  return parts.join(", ");
}
