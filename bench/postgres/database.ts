import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

/** The benchmark's server: the machine's PostgreSQL, user postgres (override with BENCH_PG_URL). */
const SERVER_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Runs one statement on its own connection to `url`. */
export async function queryOnce(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reachable(): Promise<boolean> {
  try {
    await queryOnce(SERVER_URL, "SELECT 1");
    return true;
  } catch {
    return false;
  }
}

/** Makes sure PostgreSQL is up, starting the local cluster as .ci/run does when it is down. */
export async function ensurePostgres(): Promise<void> {
  if (await reachable()) return;
  for (const version of readdirSync("/etc/postgresql")) {
    try {
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "pipe" });
    } catch {
      // Already running, or another version: the check below decides.
    }
  }
  for (let i = 0; i < 60; i++) {
    if (await reachable()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`PostgreSQL is not reachable at ${SERVER_URL}`);
}

/** A database of the benchmark's own, dropped at the end. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  await ensurePostgres();
  const name = `perdure_bench_${randomBytes(4).toString("hex")}`;
  await queryOnce(SERVER_URL, `CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await queryOnce(SERVER_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The server settings that decide what a commit costs, for the report. */
export async function serverFacts(url: string): Promise<Record<string, string>> {
  const { rows } = await queryOnce(
    url,
    `SELECT name, setting, unit FROM pg_settings WHERE name IN
      ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay', 'shared_buffers', 'max_connections')`,
  );
  const facts: Record<string, string> = {};
  for (const row of rows as { name: string; setting: string; unit: string | null }[]) {
    facts[row.name] = row.name === "shared_buffers" ? `${(Number(row.setting) * 8) / 1024} MiB` : row.setting;
  }
  return facts;
}

/**
 * Server counters read before and after a measurement:
 * - xactCommit: `pg_stat_database.xact_commit` of the bench database: every committed
 *   transaction, reads (each autocommit SELECT) included.
 * - writeXacts: transaction ids handed out, cluster-wide: transactions that wrote (or locked
 *   rows), committed or not. Exact and immediate, unlike the statistics.
 * - walSyncs: `pg_stat_wal.wal_sync`: WAL fsyncs, the durable flushes commits wait for.
 * The statistics (xactCommit, walSyncs) reach the shared counters up to a second late, so
 * `settledCounters` waits for them before reading.
 */
export interface ServerCounters {
  xactCommit: number;
  writeXacts: number;
  walSyncs: number;
  walBytes: number;
}

/** How long PostgreSQL 15 may hold a backend's statistics before it reports them (PGSTAT_MIN_INTERVAL, plus margin). */
const STATS_SETTLE_MS = 1_300;

export async function settledCounters(url: string, name: string): Promise<ServerCounters> {
  await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
  const { rows } = await queryOnce(
    url,
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = $1) AS xact_commit,
        pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid,
        (SELECT wal_sync FROM pg_stat_wal) AS wal_sync,
        pg_current_wal_lsn() - '0/0'::pg_lsn AS wal_bytes`,
    [name],
  );
  const row = rows[0] as { xact_commit: string; next_xid: string; wal_sync: string; wal_bytes: string };
  return {
    xactCommit: Number(row.xact_commit),
    writeXacts: Number(row.next_xid),
    walSyncs: Number(row.wal_sync),
    walBytes: Number(row.wal_bytes),
  };
}

/** Per-workflow differences of two readings. */
export function perWorkflow(before: ServerCounters, after: ServerCounters, workflows: number): ServerCounters {
  return {
    xactCommit: (after.xactCommit - before.xactCommit) / workflows,
    writeXacts: (after.writeXacts - before.writeXacts) / workflows,
    walSyncs: (after.walSyncs - before.walSyncs) / workflows,
    walBytes: (after.walBytes - before.walBytes) / workflows,
  };
}

/**
 * CPU time (ms) of the PostgreSQL server so far: every `postgres` process on this machine,
 * plus what exited backends left in their parent's children's time. Linux only (/proc);
 * NaN elsewhere.
 */
export function postgresCpuMs(): number {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      // Fields after the command name: state is field 3; utime, stime, cutime, cstime are 14–17.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      found = true;
    }
  } catch {
    return Number.NaN;
  }
  // USER_HZ is 100 on every Linux Node supports.
  return found ? ticks * 10 : Number.NaN;
}
