import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** What became of the PostgreSQL benchmark in this run. */
export interface PostgresOutcome {
  ran: boolean;
  /** Why it did not run or failed, for the log and BENCHMARKS.md; empty when it succeeded. */
  note: string;
}

/** The same server bench/postgres uses: the machine's PostgreSQL, or BENCH_PG_URL. */
const SERVER_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Runs the PostgreSQL benchmark (bench/postgres/run.ts, compiled next to this file) in a
 * child process of its own, so that its memory and its DBOS child processes stay out of the
 * SQLite figures. It writes its section of `out` itself (between its markers); with no
 * `out` it only prints. Skipped with a note when BENCH_POSTGRES=0, when the entry is
 * missing, or when PostgreSQL does not answer.
 */
export async function runPostgresBench(out: string | undefined, log: (line: string) => void): Promise<PostgresOutcome> {
  if (process.env.BENCH_POSTGRES === "0") return { ran: false, note: "skipped: BENCH_POSTGRES=0" };
  const entry = fileURLToPath(new URL("./postgres/run.js", import.meta.url));
  if (!existsSync(entry)) return { ran: false, note: `skipped: no PostgreSQL benchmark at ${entry}` };
  const unreachable = await checkReachable();
  if (unreachable) {
    return {
      ran: false,
      note: `skipped: PostgreSQL is not reachable at ${redacted(SERVER_URL)} (${unreachable}); start it or set BENCH_PG_URL`,
    };
  }
  log(`postgres: running ${entry}`);
  const env = { ...process.env };
  if (out) env.BENCH_OUT = out;
  else delete env.BENCH_OUT;
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(process.execPath, [entry], { env, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (exitCode, signal) => resolve(signal ?? exitCode ?? 0));
  });
  return code === 0
    ? { ran: true, note: "" }
    : { ran: false, note: `failed: the PostgreSQL benchmark exited with ${code}` };
}

/** Undefined when the server answers `SELECT 1`; otherwise what went wrong. */
async function checkReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(BENCH_PG_URL is not a URL)";
  }
}
