// Aggregator: many sources send readings to meters (durable entities) as one-way signals;
// a report orchestration then reads every meter's summary.
//
//   npm run example:aggregator -- --meters 5 --readings 5000 --db ./perdure-aggregator.db
//
// stdout: a table of the meters, then one JSON line. Warnings and errors go to stderr.

import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { createClient, createWorker, type Logger } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { meter } from "./meter.js";
import { type Report, report } from "./report.js";

const USAGE = `Usage: npm run example:aggregator -- [--meters N] [--readings N] [--sources N] [--db FILE]
  --meters N    meters, each an entity (default 5)
  --readings N  readings sent in all (default 5000)
  --sources N   senders sending at the same time (default 20)
  --db FILE     Perdure store file (default ./perdure-aggregator.db); a new run starts it afresh`;

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

class UsageError extends Error {}

function parseFlags(argv: string[]): { meters: number; readings: number; sources: number; db: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      meters: { type: "string", default: "5" },
      readings: { type: "string", default: "5000" },
      sources: { type: "string", default: "20" },
      db: { type: "string", default: "./perdure-aggregator.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string, max: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > max) {
      throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}.`);
    }
    return n;
  };
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  return {
    meters: int("meters", values.meters, 100),
    readings: int("readings", values.readings, 1_000_000),
    sources: int("sources", values.sources, 1000),
    db: values.db,
  };
}

/** The value of reading `i`: known in advance, so that the report can be checked. */
const readingValue = (i: number): number => (i * 7919) % 101;

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${flags.db}${suffix}`, { force: true });
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [report],
    activities: [],
    entities: [meter],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  await worker.start();

  const keys = Array.from({ length: flags.meters }, (_, i) => `meter-${i + 1}`);
  const started = Date.now();
  // Each source sends its share of the readings one after another; the sources run at once.
  let next = 0;
  const source = async (): Promise<void> => {
    for (let i = next++; i < flags.readings; i = next++) {
      await client.signalEntity(meter, keys[i % keys.length] as string, "record", readingValue(i));
    }
  };
  await Promise.all(Array.from({ length: flags.sources }, source));
  const sent = Date.now();
  const id = await client.start(report, keys);
  const done = await client.waitForCompletion<string[], Report>(id);
  const seconds = (Date.now() - started) / 1000;
  await worker.stop();
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  if (done.runtimeStatus !== "Completed" || !done.output) {
    console.error(`report ${done.runtimeStatus}: ${done.failure?.message ?? "no result"}`);
    return 1;
  }
  const result = done.output;
  let expectedSum = 0;
  for (let i = 0; i < flags.readings; i++) expectedSum += readingValue(i);
  for (const key of keys) {
    const m = result.meters[key];
    console.log(
      `${key.padEnd(10)} ${String(m?.count).padStart(7)} readings  mean ${m?.mean?.toFixed(2)}  min ${m?.min}  max ${m?.max}`,
    );
  }
  const exact = result.readings === flags.readings && result.sum === expectedSum;
  console.log(
    `${result.readings} readings aggregated (${flags.readings} sent by ${flags.sources} sources in ${((sent - started) / 1000).toFixed(1)} s; report after ${seconds.toFixed(1)} s): ${exact ? "none lost, none counted twice" : "MISMATCH"}.`,
  );
  console.log(
    JSON.stringify({
      instanceId: id,
      readings: result.readings,
      sum: result.sum,
      expectedSum,
      exact,
      meters: result.meters,
    }),
  );
  return exact ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`aggregator: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("aggregator failed:", error);
    process.exit(1);
  },
);
