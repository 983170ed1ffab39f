// The monitor pattern: watches a (simulated) job by checking its state file on a durable
// timer until the job finishes or the monitor's expiry passes.
//
//   npm run example:monitor -- --job-takes 3s --interval 1s --expiry 10s   # the job finishes
//   npm run example:monitor -- --job-takes never --expiry 3s               # the monitor gives up
//
// stdout: a short summary, then one JSON line. Warnings and errors go to stderr.

import { parseArgs } from "node:util";
import { createClient, createWorker, type Logger, PerdureError, toMilliseconds } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { checkJobStatus } from "./activities.js";
import { jobFileFor, writeJobState } from "./jobFile.js";
import { MONITOR_INSTANCE_ID, type MonitorInput, type MonitorResult, monitorJob } from "./orchestration.js";

const USAGE = `Usage: npm run example:monitor -- [--job-takes D|never] [--interval D] [--expiry D] [--db FILE]
  --job-takes D   the simulated job succeeds after D, or never (default 3s)
  --interval D    time between two checks (default 1s)
  --expiry D      the monitor gives up D after it started (default 10s)
  --db FILE       Perdure store file (default ./perdure-monitor.db); the job's state is FILE-job.json
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
  /** Undefined: the job never finishes. */
  jobTakesMs: number | undefined;
  pollIntervalMs: number;
  expiryMs: number;
  db: string;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      "job-takes": { type: "string", default: "3s" },
      interval: { type: "string", default: "1s" },
      expiry: { type: "string", default: "10s" },
      db: { type: "string", default: "./perdure-monitor.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  const jobTakes = values["job-takes"];
  return {
    jobTakesMs: jobTakes === "never" ? undefined : duration("--job-takes", jobTakes),
    pollIntervalMs: duration("--interval", values.interval),
    expiryMs: duration("--expiry", values.expiry),
    db: values.db,
  };
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

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const jobFile = jobFileFor(flags.db);
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [monitorJob],
    activities: [checkJobStatus],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);

  // An instance that an interrupted run left active is resumed, not started over.
  const existing = await client.getStatus(MONITOR_INSTANCE_ID);
  const resumed = existing !== undefined && !FINISHED.has(existing.runtimeStatus);
  if (!resumed) {
    await writeJobState(jobFile, "Running");
    const input: MonitorInput = { jobFile, pollIntervalMs: flags.pollIntervalMs, expiryMs: flags.expiryMs };
    await client.start(monitorJob, input, { instanceId: MONITOR_INSTANCE_ID, replaceIfFinished: true });
  }
  // The simulated job: it reports success through its state file after --job-takes.
  const job =
    flags.jobTakesMs === undefined
      ? undefined
      : setTimeout(() => void writeJobState(jobFile, "Succeeded").catch(console.error), flags.jobTakesMs);

  await worker.start();
  const final = await client.waitForCompletion<MonitorInput, MonitorResult>(MONITOR_INSTANCE_ID);
  clearTimeout(job);
  await worker.stop();
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  const result = final.output;
  if (final.runtimeStatus !== "Completed" || !result) {
    console.error(`monitor ${final.runtimeStatus}: ${final.failure?.message ?? "no result"}`);
  } else if (result.outcome === "finished") {
    console.log(`The job ${result.jobStatus}: the monitor saw it at check ${result.checks}.`);
  } else {
    console.log(
      `The job was still ${result.jobStatus} at ${result.expiresAt}: the monitor gave up after ${result.checks} checks.`,
    );
  }
  console.log(JSON.stringify({ instanceId: MONITOR_INSTANCE_ID, status: final.runtimeStatus, resumed, ...result }));
  return final.runtimeStatus === "Completed" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // parseArgs reports unknown or malformed flags with codes starting ERR_PARSE_ARGS.
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`monitor: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("monitor failed:", error);
    process.exit(1);
  },
);
