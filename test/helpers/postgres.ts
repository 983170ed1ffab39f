import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import pg from "pg";

/** The test server: the machine's PostgreSQL, trust auth for user postgres. */
export const PG_HOST = "127.0.0.1";
export const PG_PORT = 5432;
const ADMIN_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;

let up: Promise<void> | undefined;

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Makes sure PostgreSQL runs on 127.0.0.1:5432, starting the local cluster if it is down
 * (as .ci/run does). Fails loudly if it cannot: the PostgreSQL tests never skip silently.
 */
export function ensurePostgres(): Promise<void> {
  up ??= (async () => {
    if (await reachable()) return;
    const versions = readdirSync("/etc/postgresql");
    for (const version of versions) {
      try {
        execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "pipe" });
      } catch {
        // Already running, or another version: the reachability check below decides.
      }
    }
    for (let i = 0; i < 60; i++) {
      if (await reachable()) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`PostgreSQL is not reachable at ${PG_HOST}:${PG_PORT} and could not be started`);
  })();
  return up;
}

/** Runs SQL as the admin user on the "postgres" database. */
export async function adminQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL in this database, behind Perdure's back. */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Drops the database, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/** Creates an empty database of its own for a test file: perdure_test_<random>. */
export async function createTestDatabase(): Promise<TestDatabase> {
  await ensurePostgres();
  const name = `perdure_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = `postgres://postgres@${PG_HOST}:${PG_PORT}/${name}`;
  return {
    name,
    url,
    async query(text, values = []) {
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => undefined);
      await client.connect();
      try {
        return await client.query(text, values);
      } finally {
        await client.end();
      }
    },
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
