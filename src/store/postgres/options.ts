import { userInfo } from "node:os";
import type pg from "pg";
import { InvalidArgumentError } from "../../errors/errors.js";

export interface PostgresStoreOptions {
  /** A libpq-style URL, such as "postgres://app:secret@db.internal:5432/app". */
  connectionString?: string;
  /**
   * Connection settings passed to `pg` (host, port, user, password, database, ssl, …), used
   * with or instead of `connectionString`. Unset fields fall back to the PG* environment
   * variables, as with `psql`.
   */
  connection?: Omit<pg.PoolConfig, "max" | "types" | "connectionString">;
  /** The schema that holds Perdure's tables; created if missing. Default "perdure". */
  schema?: string;
  /** Connections in the store's pool (one more listens for notifications). Default 10. */
  poolSize?: number;
  /** How long opening a connection may take before the store reports STORE_UNAVAILABLE. Default 10 000 ms. */
  connectTimeoutMs?: number;
}

/** The options, checked, with defaults filled in. */
export interface ResolvedOptions {
  schema: string;
  /** The schema as a quoted SQL identifier, ready to prefix table names with. */
  quotedSchema: string;
  pool: pg.PoolConfig;
  location: string;
}

/** Unquoted PostgreSQL identifiers: what a user can type without quotes, up to 63 bytes. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      'postgresStore needs options, such as { connectionString: "postgres://user@localhost/app" }.',
    );
  }
  const schema = options.schema ?? "perdure";
  if (typeof schema !== "string" || !IDENTIFIER.test(schema) || schema.toLowerCase().startsWith("pg_")) {
    throw new InvalidArgumentError(
      `schema must be a plain SQL identifier (letters, digits and _, not starting with a digit or "pg_", at most 63 characters), got ${JSON.stringify(schema)}.`,
    );
  }
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new InvalidArgumentError(`poolSize must be a positive whole number, got ${poolSize}.`);
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new InvalidArgumentError(`connectTimeoutMs must be a positive number, got ${connectTimeoutMs}.`);
  }
  if (options.connectionString !== undefined && typeof options.connectionString !== "string") {
    throw new InvalidArgumentError("connectionString must be a string.");
  }
  const pool: pg.PoolConfig = {
    ...options.connection,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
  };
  if (options.connectionString !== undefined) pool.connectionString = options.connectionString;
  return { schema, quotedSchema: `"${schema}"`, pool, location: describeLocation(options, schema) };
}

/** "postgres://user@host:port/database (schema perdure)", without the password. */
function describeLocation(options: PostgresStoreOptions, schema: string): string {
  const env = process.env;
  const c = options.connection ?? {};
  let user = c.user ?? env["PGUSER"];
  let host = c.host ?? env["PGHOST"];
  let port: string | number | undefined = c.port ?? env["PGPORT"];
  let database = c.database ?? env["PGDATABASE"];
  if (options.connectionString) {
    try {
      const url = new URL(options.connectionString);
      user = decodeURIComponent(url.username) || user;
      host = decodeURIComponent(url.hostname) || url.searchParams.get("host") || host;
      port = url.port || port;
      database = decodeURIComponent(url.pathname.slice(1)) || database;
    } catch {
      // Not a URL (a libpq key=value string): describe what the settings say.
    }
  }
  user ??= safeUser();
  return `postgres://${user}@${host ?? "localhost"}:${port ?? 5432}/${database ?? user} (schema ${schema})`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}
