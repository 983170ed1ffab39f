// The record migration: moves N generated records through extract → transform → load in
// batches, as one durable orchestration. Kill it at any moment and run the same command
// again: it resumes where it stopped and every record lands in the target exactly once.
//
//   npm start -- --records 1000000 --batch 1000 --db ./perdure-migrate.db
//
// stdout gets one line, a JSON summary; progress and errors go to stderr.

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type Client,
  createClient,
  createWorker,
  type InstanceStatus,
  type Logger,
  type OrchestrationDefinition,
  PerdureError,
} from "perdure";
import { type SqliteStore, sqliteStore } from "perdure/sqlite";
import { type MigrationActivities, type MigrationStatus, migrationActivities } from "./activities.js";
import { MIGRATION_INSTANCE_ID, type MigrationInput, migrateRecordsOrchestration } from "./orchestration.js";
import { progressBar, watchMigration } from "./progress.js";
import { RecordsDatabase, recordsFileFor } from "./recordsDatabase.js";

const USAGE = `Usage: npm start -- [--records N] [--batch B] [--db FILE]
  --records N   source records to generate and migrate (default 100000)
  --batch B     records per batch (default 1000)
  --db FILE     Perdure store file (default ./perdure-migrate.db); the records live in FILE-records.sqlite`;

/** Exit codes: 0 the migration is Completed, 1 it Failed or was Terminated, 2 bad usage. */
const EXIT_USAGE = 2;

interface Flags extends MigrationInput {
  db: string;
}

/** A mistake in how the program was called: exit code 2, with a message (and the usage, for flag errors). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** The final stdout line. */
interface Summary {
  instanceId: string;
  status: string;
  records: number;
  targetRows: number;
  duplicates: number;
  resumed: boolean;
  elapsedMs: number;
}

// Only warnings and errors, and only on stderr: stdout carries the JSON summary alone.
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

function parseFlags(argv: string[]): Flags {
  let values: { records?: string; batch?: string; db?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        records: { type: "string" },
        batch: { type: "string" },
        db: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.error(USAGE);
    process.exit(0);
  }
  const db = values.db ?? "./perdure-migrate.db";
  if (db.trim() === "") throw new UsageError("--db must name a file.");
  return {
    records: positiveInteger("--records", values.records ?? "100000"),
    batch: positiveInteger("--batch", values.batch ?? "1000"),
    db,
  };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(text)}.`);
  }
  return value;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const recordsFile = recordsFileFor(flags.db);
  const input: MigrationInput = { records: flags.records, batch: flags.batch };

  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  // The records database is opened below, once the instance is known; the definitions
  // only need it when the worker runs them.
  let records: RecordsDatabase | undefined;
  const stages = migrationActivities(() => {
    if (!records) throw new Error("the records database is not open yet");
    return records;
  });
  const migrate = migrateRecordsOrchestration(stages);

  // Make the instance durable first, before any slow work: a run killed after this point
  // is resumed by the next one.
  let existing = await client.getStatus<MigrationInput, MigrationStatus>(MIGRATION_INSTANCE_ID);
  if (!existing) {
    if (existsSync(recordsFile)) {
      throw new UsageError(
        `${recordsFile} holds records of a migration that ${flags.db} does not know; delete it to start over.`,
        false,
      );
    }
    try {
      await client.start(migrate, input, { instanceId: MIGRATION_INSTANCE_ID });
    } catch (error) {
      // Another process with the same --db started it a moment ago: join it.
      if (!(error instanceof PerdureError && error.code === "INSTANCE_ALREADY_EXISTS")) throw error;
      existing = await client.getStatus<MigrationInput, MigrationStatus>(MIGRATION_INSTANCE_ID);
    }
  }
  const resumed = existing !== undefined;
  if (existing && (existing.input.records !== input.records || existing.input.batch !== input.batch)) {
    await store.close();
    throw new UsageError(
      `${flags.db} holds a migration of ${existing.input.records} records in batches of ${existing.input.batch}` +
        ` (${existing.runtimeStatus}); run it with --records ${existing.input.records} --batch ${existing.input.batch},` +
        " or use another --db.",
      false,
    );
  }

  records = new RecordsDatabase(recordsFile);
  let final: InstanceStatus<MigrationInput, MigrationStatus>;
  if (existing && existing.runtimeStatus !== "Pending" && existing.runtimeStatus !== "Running") {
    final = existing; // Finished before: report it, run nothing.
  } else {
    final = await runToCompletion(flags, records, client, store, stages, migrate);
  }

  const summary: Summary = {
    instanceId: MIGRATION_INSTANCE_ID,
    status: final.runtimeStatus,
    records: flags.records,
    ...records.counts(),
    resumed,
    elapsedMs: Math.round(performance.now()),
  };
  records.close();
  await store.close();
  if (final.failure) console.error(`migration ${final.runtimeStatus}: ${final.failure.message}`);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return final.runtimeStatus === "Completed" ? 0 : 1;
}

/** Generates the missing source records, then runs the worker until the instance finishes. */
async function runToCompletion(
  flags: Flags,
  records: RecordsDatabase,
  client: Client,
  store: SqliteStore,
  stages: MigrationActivities,
  migrate: OrchestrationDefinition<MigrationInput, MigrationStatus>,
): Promise<InstanceStatus<MigrationInput, MigrationStatus>> {
  const bar = progressBar();
  records.seed(flags.records, (generated) => bar?.update("generating", generated, flags.records));
  bar?.finish();

  const worker = createWorker({
    store,
    orchestrations: [migrate],
    activities: [stages.extract, stages.transform, stages.load],
    logger,
    handleSignals: false,
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping; run the same command again to resume.`);
    void worker.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  await worker.start();
  const stopWatching = bar ? watchMigration(client, MIGRATION_INSTANCE_ID, bar) : () => undefined;
  try {
    return await client.waitForCompletion<MigrationInput, MigrationStatus>(MIGRATION_INSTANCE_ID);
  } finally {
    stopWatching();
    await worker.stop();
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`migrate-records: ${error.message}${error.showUsage ? `\n\n${USAGE}` : ""}`);
      process.exit(EXIT_USAGE);
    }
    console.error("migrate-records failed:", error);
    process.exit(1);
  },
);
