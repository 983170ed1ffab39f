import { readdirSync, readFileSync } from "node:fs";
import type Database from "better-sqlite3";
import { NotAPerdureDatabaseError, SchemaTooNewError } from "../../errors/errors.js";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);

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
 * Brings the schema up to date, or refuses a database that is not ours or is newer than
 * this code. Runs in one IMMEDIATE transaction, so two processes opening a new file at
 * once cannot both migrate it: the second waits, then finds the work done.
 */
export function migrate(db: Database.Database, location: string): number {
  const migrations = loadMigrations();
  const known = migrations.at(-1)?.version ?? 0;
  const run = db.transaction(() => {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    let current = 0;
    if (tables.includes("perdure_migrations")) {
      current = (db.prepare("SELECT MAX(version) FROM perdure_migrations").pluck().get() as number | null) ?? 0;
    } else if (tables.length > 0) {
      throw new NotAPerdureDatabaseError(location, `it already holds other tables (${tables.slice(0, 5).join(", ")})`);
    } else {
      db.exec(
        "CREATE TABLE perdure_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      );
    }
    if (current > known) throw new SchemaTooNewError(location, current, known);
    const record = db.prepare("INSERT INTO perdure_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, Date.now());
    }
    return known;
  });
  return run.immediate();
}
