// Fan-out/fan-in: backs up a folder of generated files with one activity per file, run in
// parallel, and adds up the bytes copied.
//
//   npm run example:fan-out-fan-in -- --files 20 --db ./perdure-fan-out-fan-in.db
//
// stdout: a short summary, then one JSON line. Warnings and errors go to stderr.

import { parseArgs } from "node:util";
import { createClient, createWorker, type Logger } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { copyFileToBackup, getFileList } from "./activities.js";
import { BACKUP_INSTANCE_ID, type BackupResult, backupSiteContent } from "./orchestration.js";
import { createSite, siteDirectoriesFor } from "./siteFiles.js";

const USAGE = `Usage: npm run example:fan-out-fan-in -- [--files N] [--db FILE]
  --files N   files to generate and back up, one activity each (default 20)
  --db FILE   Perdure store file (default ./perdure-fan-out-fan-in.db); the files go to FILE-files/`;

const FINISHED = new Set(["Completed", "Failed", "Terminated"]);

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

class UsageError extends Error {}

function parseFlags(argv: string[]): { files: number; db: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      files: { type: "string", default: "20" },
      db: { type: "string", default: "./perdure-fan-out-fan-in.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const files = Number(values.files);
  if (!/^\d+$/.test(values.files) || files < 1 || files > 999) {
    throw new UsageError(`--files must be an integer from 1 to 999, got ${JSON.stringify(values.files)}.`);
  }
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  return { files, db: values.db };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const dirs = siteDirectoriesFor(flags.db);
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [backupSiteContent],
    activities: [getFileList, copyFileToBackup],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);

  // An instance that an interrupted run left active is resumed, not started over.
  const existing = await client.getStatus(BACKUP_INSTANCE_ID);
  const resumed = existing !== undefined && !FINISHED.has(existing.runtimeStatus);
  if (!resumed) {
    createSite(dirs, flags.files);
    await client.start(backupSiteContent, dirs, { instanceId: BACKUP_INSTANCE_ID, replaceIfFinished: true });
  }
  await worker.start();
  const final = await client.waitForCompletion<unknown, BackupResult>(BACKUP_INSTANCE_ID);
  await worker.stop();
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  const result = final.output;
  if (final.runtimeStatus === "Completed" && result) {
    console.log(
      `Backed up ${result.files} files, ${result.totalBytes} bytes, from ${dirs.sourceDir} to ${dirs.backupDir}.`,
    );
    console.log(
      `${result.activities} activities: 1 getFileList, then ${result.files} copyFileToBackup fanned out at once.`,
    );
  } else {
    console.error(`backup ${final.runtimeStatus}: ${final.failure?.message ?? "no result"}`);
  }
  const summary = { instanceId: BACKUP_INSTANCE_ID, status: final.runtimeStatus, resumed, ...result };
  console.log(JSON.stringify(summary));
  return final.runtimeStatus === "Completed" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // parseArgs reports unknown or malformed flags with codes starting ERR_PARSE_ARGS.
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`fan-out-fan-in: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("fan-out-fan-in failed:", error);
    process.exit(1);
  },
);
