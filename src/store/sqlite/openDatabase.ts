import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Database from "better-sqlite3";
import { InvalidArgumentError, NotAPerdureDatabaseError } from "../../errors/errors.js";
import { migrate } from "./migrate.js";
import type { SqliteStoreOptions } from "./sqliteStore.js";

/**
 * Opens (creating if needed) a Perdure store file: checks the arguments, brings the schema
 * up to date and switches to WAL. A file that is not ours, or is newer, is refused with a
 * typed error and left as it was.
 */
export function openDatabase(
  filename: string,
  options: SqliteStoreOptions,
): { db: Database.Database; location: string } {
  if (typeof filename !== "string" || filename.trim() === "") {
    throw new InvalidArgumentError('sqliteStore needs a file name, such as "perdure.db" (or ":memory:" for tests).');
  }
  const durability = options.durability ?? "full";
  if (durability !== "full" && durability !== "normal") {
    throw new InvalidArgumentError(`durability must be "full" or "normal", got ${JSON.stringify(durability)}.`);
  }
  const location = filename === ":memory:" ? "sqlite::memory:" : `sqlite:${resolve(filename)}`;
  const existed = filename !== ":memory:" && existsSync(filename);
  const db = new Database(filename, { timeout: options.busyTimeoutMs ?? 5_000 });
  try {
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = ON");
    migrate(db, location);
    // Only after migrate has accepted the file: switching to WAL rewrites the file header,
    // and a database that is not ours (or is newer) must be left byte for byte as it was.
    db.pragma("journal_mode = WAL");
  } catch (error) {
    db.close();
    if (existed && (error as { code?: string }).code === "SQLITE_NOTADB") {
      throw new NotAPerdureDatabaseError(location, "it is not an SQLite database");
    }
    throw error;
  }
  return { db, location };
}
