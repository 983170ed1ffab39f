import type { Client } from "perdure";
import type { MigrationStatus } from "./activities.js";

/** A one-line progress bar on a terminal. */
export interface ProgressBar {
  update(label: string, done: number, total: number, detail?: string): void;
  /** Ends the line, so that what follows starts on a fresh one. */
  finish(): void;
}

/** A progress bar on `stream`, or undefined when it is not a terminal (logs, pipes, CI). */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar | undefined {
  if (!stream.isTTY) return undefined;
  let drawn = false;
  return {
    update(label, done, total, detail = "") {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 70));
      const filled = Math.round(fraction * width);
      const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
      const percent = `${(fraction * 100).toFixed(1).padStart(5)}%`;
      stream.write(`\r${label.padEnd(10)} ${bar} ${percent} ${done}/${total} ${detail}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}

/**
 * Polls the instance's custom status (the orchestration publishes it after each batch)
 * and draws it. Reading through the client, like any other observer would, rather than
 * from inside the worker. Returns the function that stops polling.
 */
export function watchMigration(client: Client, instanceId: string, bar: ProgressBar, intervalMs = 200): () => void {
  const startedAt = Date.now();
  let firstSeen: number | undefined;
  const draw = async (): Promise<void> => {
    const status = (await client.getStatus(instanceId))?.customStatus as MigrationStatus | undefined;
    if (!status?.totalRecords) return;
    firstSeen ??= status.migratedRecords;
    const seconds = (Date.now() - startedAt) / 1000;
    const rate = seconds > 0 ? Math.round((status.migratedRecords - firstSeen) / seconds) : 0;
    bar.update("migrating", status.migratedRecords, status.totalRecords, `· ${rate} rec/s`);
  };
  const timer = setInterval(() => void draw().catch(() => undefined), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    bar.finish();
  };
}
