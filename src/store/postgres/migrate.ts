import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";
import { NotAPerdureDatabaseError, SchemaTooNewError } from "../../errors/errors.js";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
/** First key of the advisory lock that serialises migrations ("perd"); the second is the schema's hash. */
const LOCK_NAMESPACE = 0x70657264;

interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The numbered `NNNN_name.sql` files beside this module, in order. */
export function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d{4}_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), "utf8"),
    }));
}

/**
 * Brings the schema up to date, or refuses a schema that is not ours or is newer than this
 * code. Runs in one transaction under a transaction-scoped advisory lock, so processes
 * starting together against a fresh database migrate it once: the others wait for the
 * lock, then find the work done. A refusal rolls back, leaving the database as it was.
 */
export async function migrate(client: pg.ClientBase, schema: string, location: string): Promise<number> {
  const migrations = loadMigrations();
  const known = migrations.at(-1)?.version ?? 0;
  const quoted = `"${schema}"`;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_NAMESPACE, schema]);
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    const tables = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname`,
      [schema],
    );
    const names = tables.rows.map((r) => r.name);
    let current = 0;
    if (names.includes("perdure_migrations")) {
      const max = await client.query<{ version: number | null }>(
        `SELECT MAX(version) AS version FROM ${quoted}.perdure_migrations`,
      );
      current = max.rows[0]?.version ?? 0;
    } else if (names.length > 0) {
      throw new NotAPerdureDatabaseError(
        location,
        `schema "${schema}" already holds other tables (${names.slice(0, 5).join(", ")})`,
      );
    } else {
      await client.query(
        `CREATE TABLE ${quoted}.perdure_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
      );
    }
    if (current > known) throw new SchemaTooNewError(location, current, known);
    // The migration files name tables without a schema: they land in this one.
    await client.query(`SET LOCAL search_path TO ${quoted}`);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${quoted}.perdure_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    }
    await client.query("COMMIT");
    return known;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
