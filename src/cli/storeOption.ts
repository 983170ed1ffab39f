import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { sqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";
import { CliError } from "./cliError.js";

export const DEFAULT_STORE = "sqlite:perdure.db";

/** A parsed `--store` value. */
export type StoreSpec = { kind: "sqlite"; file: string } | { kind: "postgres"; url: string; schema?: string };

/**
 * Parses `sqlite:FILE`, a bare file name (taken as SQLite), or `postgres://…` /
 * `postgresql://…` with an optional `schema=NAME` query parameter (default schema "perdure").
 */
export function parseStoreSpec(value: string): StoreSpec {
  const text = value.trim();
  if (/^postgres(ql)?:\/\//i.test(text)) return parsePostgres(text);
  const file = text.startsWith("sqlite:") ? text.slice("sqlite:".length) : text;
  if (file === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new CliError("USAGE", `--store "${value}" is not a store: use sqlite:FILE or postgres://USER@HOST/DB.`);
  }
  return { kind: "sqlite", file };
}

function parsePostgres(text: string): StoreSpec {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError("USAGE", "--store: the PostgreSQL URL is malformed; use postgres://USER:PASSWORD@HOST:PORT/DB.");
  }
  const schema = url.searchParams.get("schema");
  if (schema === null) return { kind: "postgres", url: text };
  // `schema` is Perdure's, not libpq's: it is taken out before the URL goes to the driver.
  url.searchParams.delete("schema");
  return { kind: "postgres", url: url.toString(), schema };
}

/**
 * Opens the store named by `--store`. Commands that only read or manage instances pass
 * `mustExist`, so that a typo in an SQLite file name is reported instead of creating an
 * empty store.
 */
export async function openStore(value: string, options: { mustExist: boolean }): Promise<Store> {
  const spec = parseStoreSpec(value);
  if (spec.kind === "postgres") {
    // Loaded only when asked for: SQLite users do not pay for loading the pg driver.
    const { postgresStore } = await import("../store/postgres/index.js");
    return postgresStore({ connectionString: spec.url, ...(spec.schema === undefined ? {} : { schema: spec.schema }) });
  }
  if (options.mustExist && spec.file !== ":memory:" && !existsSync(spec.file)) {
    throw new CliError(
      "STORE_NOT_FOUND",
      `No store at ${resolve(spec.file)}: pass --store sqlite:FILE with the file your workers use (it is created by "perdure serve" or "perdure start").`,
    );
  }
  return sqliteStore(spec.file);
}
