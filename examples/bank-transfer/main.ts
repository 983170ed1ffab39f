// Bank transfer: accounts are durable entities; each transfer is an orchestration that locks
// both accounts, checks the balance and moves the money. Many transfers run at once; the
// books must balance at the end.
//
//   npm run example:bank-transfer -- --accounts 10 --transfers 200 --db ./perdure-bank.db
//
// stdout: a short summary, then one JSON line. Warnings and errors go to stderr.

import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { createClient, createWorker, type Logger } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { type AccountState, account } from "./account.js";
import { auditBooks } from "./audit.js";
import { accountKeys, openAndStart, planTransfers } from "./plan.js";
import { type TransferResult, transfer } from "./transfer.js";

const USAGE = `Usage: npm run example:bank-transfer -- [--accounts N] [--transfers N] [--opening N] [--seed N] [--db FILE]
  --accounts N   accounts, each an entity (default 10)
  --transfers N  transfers started at once, each an orchestration (default 200)
  --opening N    the opening balance of every account (default 1000)
  --seed N       picks the transfers (default 1)
  --db FILE      Perdure store file (default ./perdure-bank-transfer.db); a new run starts it afresh`;

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

class UsageError extends Error {}

interface Flags {
  accounts: number;
  transfers: number;
  opening: number;
  seed: number;
  db: string;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      accounts: { type: "string", default: "10" },
      transfers: { type: "string", default: "200" },
      opening: { type: "string", default: "1000" },
      seed: { type: "string", default: "1" },
      db: { type: "string", default: "./perdure-bank-transfer.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}.`);
    }
    return n;
  };
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  return {
    accounts: int("accounts", values.accounts, 2, 99),
    transfers: int("transfers", values.transfers, 1, 5000),
    opening: int("opening", values.opening, 1, 1_000_000),
    seed: int("seed", values.seed, 0, 2 ** 31),
    db: values.db,
  };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  // Every run starts from empty books: a leftover store would hold another run's accounts.
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${flags.db}${suffix}`, { force: true });
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [transfer],
    activities: [],
    entities: [account],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);

  const keys = accountKeys(flags.accounts);
  // Amounts up to half an opening balance: some payers run dry, and those transfers are rejected.
  const plan = planTransfers(keys, flags.transfers, Math.ceil(flags.opening / 2), flags.seed);
  const started = Date.now();
  await openAndStart(client, keys, flags.opening, plan);
  await worker.start();
  const results = new Map<string, TransferResult | undefined>();
  for (const t of plan) {
    const status = await client.waitForCompletion<unknown, TransferResult>(t.transferId);
    results.set(t.transferId, status.runtimeStatus === "Completed" ? status.output : undefined);
  }
  const seconds = (Date.now() - started) / 1000;
  const accounts = new Map<string, AccountState>();
  for (const key of keys) accounts.set(key, (await client.getEntity(account, key)).state as AccountState);
  await worker.stop();
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  const audit = auditBooks(accounts, flags.opening, plan, results);
  console.log(
    `${plan.length} transfers between ${keys.length} accounts in ${seconds.toFixed(1)} s: ${audit.done} done, ${audit.rejected} rejected for want of money.`,
  );
  console.log(
    `Total money: ${audit.total} (opened with ${keys.length * flags.opening}). ${audit.problems.length === 0 ? "The books balance." : `PROBLEMS: ${audit.problems.join("; ")}`}`,
  );
  const balances = Object.fromEntries([...accounts].map(([key, s]) => [key, s.balance]));
  console.log(
    JSON.stringify({
      transfers: plan.length,
      done: audit.done,
      rejected: audit.rejected,
      total: audit.total,
      balances,
      problems: audit.problems,
    }),
  );
  return audit.problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`bank-transfer: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("bank-transfer failed:", error);
    process.exit(1);
  },
);
