// The eternal orchestration: cleans up a folder of temporary files in batches, sleeping
// between runs, and continues as new after each run so that its history never grows.
//
//   npm run example:eternal-cleanup -- --iterations 4 --interval 1s --files 10 --batch 3
//
// stdout: a line per iteration, a short summary, then one JSON line. Errors go to stderr.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient, createWorker, type Logger, PerdureError, toMilliseconds } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { cleanUp } from "./activities.js";
import { watchIterations } from "./historyWatch.js";
import { CLEANUP_INSTANCE_ID, type CleanupState, type CleanupSummary, periodicCleanup } from "./orchestration.js";

const USAGE = `Usage: npm run example:eternal-cleanup -- [--iterations N] [--interval D] [--files N] [--batch N] [--db FILE]
  --iterations N  cleanup runs before the demo stops (default 4)
  --interval D    sleep between two runs (default 1s)
  --files N       temporary files to create for the demo (default 10)
  --batch N       files removed at most per run (default 3)
  --db FILE       Perdure store file (default ./perdure-eternal-cleanup.db); the files go to FILE-tmp/
Durations: milliseconds or a number with a unit, such as 500ms, 2s, 1m.`;

const FINISHED = new Set(["Completed", "Failed", "Terminated"]);

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

class UsageError extends Error {}

interface Flags {
  iterations: number;
  intervalMs: number;
  files: number;
  batch: number;
  db: string;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      iterations: { type: "string", default: "4" },
      interval: { type: "string", default: "1s" },
      files: { type: "string", default: "10" },
      batch: { type: "string", default: "3" },
      db: { type: "string", default: "./perdure-eternal-cleanup.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  return {
    iterations: count("--iterations", values.iterations, 1),
    intervalMs: duration("--interval", values.interval),
    files: count("--files", values.files, 0),
    batch: count("--batch", values.batch, 1),
    db: values.db,
  };
}

function count(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > 10_000) {
    throw new UsageError(`${flag} must be an integer from ${min} to 10000, got ${JSON.stringify(text)}.`);
  }
  return value;
}

function duration(flag: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : text;
  try {
    return toMilliseconds(value, flag);
  } catch (error) {
    if (error instanceof PerdureError) throw new UsageError(error.message);
    throw error;
  }
}

/** A fresh folder of `files` temporary files to clean up. */
function createTempFiles(dir: string, files: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= files; i++) writeFileSync(join(dir, `cache-${String(i).padStart(5, "0")}.tmp`), `entry ${i}\n`);
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const dir = `${flags.db}-tmp`;
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [periodicCleanup],
    activities: [cleanUp],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);

  const watch = watchIterations(store, CLEANUP_INSTANCE_ID);
  // An instance that an interrupted run left active is resumed, not started over.
  const existing = await client.getStatus(CLEANUP_INSTANCE_ID);
  const resumed = existing !== undefined && !FINISHED.has(existing.runtimeStatus);
  if (!resumed) {
    createTempFiles(dir, flags.files);
    const first: CleanupState = {
      dir,
      batch: flags.batch,
      intervalMs: flags.intervalMs,
      iterations: flags.iterations,
      iteration: 1,
      removedSoFar: 0,
    };
    await client.start(periodicCleanup, first, { instanceId: CLEANUP_INSTANCE_ID, replaceIfFinished: true });
  }
  await worker.start();
  const final = await client.waitForCompletion<CleanupState, CleanupSummary>(CLEANUP_INSTANCE_ID);
  await worker.stop();
  watch.stop();
  const finalHistoryLength = (await client.getHistory(CLEANUP_INSTANCE_ID)).length;
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  const iterations = [...watch.iterations.entries()].sort(([a], [b]) => a - b);
  for (const [iteration, view] of iterations) {
    console.log(
      `iteration ${iteration}: removed ${view.removed ?? "?"} file(s); history at most ${view.maxHistoryLength} events`,
    );
  }
  const historyLengths = iterations.map(([, view]) => view.maxHistoryLength);
  const result = final.output;
  if (final.runtimeStatus !== "Completed" || !result) {
    console.error(`cleanup ${final.runtimeStatus}: ${final.failure?.message ?? "no result"}`);
  } else {
    console.log(
      `${result.iterations} cleanup runs removed ${result.removed} files (${result.remaining} left).` +
        ` Continue-as-new kept the history flat: at most ${Math.max(0, ...historyLengths)} events in any` +
        ` iteration, ${finalHistoryLength} at the end.`,
    );
  }
  const summary = {
    instanceId: CLEANUP_INSTANCE_ID,
    status: final.runtimeStatus,
    resumed,
    ...result,
    removedPerIteration: iterations.map(([, view]) => view.removed),
    historyLengths,
    finalHistoryLength,
  };
  console.log(JSON.stringify(summary));
  return final.runtimeStatus === "Completed" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // parseArgs reports unknown or malformed flags with codes starting ERR_PARSE_ARGS.
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`eternal-cleanup: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("eternal-cleanup failed:", error);
    process.exit(1);
  },
);
