import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotAPerdureDatabaseError, type PerdureError, SchemaTooNewError } from "../../src/index.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { loadMigrations } from "../../src/store/sqlite/migrate.js";

const CHILD = fileURLToPath(new URL("../helpers/openStoreChild.ts", import.meta.url));
const TABLES = [
  "activity_tasks",
  "entities",
  "entity_messages",
  "entity_operations",
  "held_tasks",
  "history",
  "inbox",
  "instances",
  "perdure_migrations",
  "queues",
];
/** Every migration this code knows, as a new file records them. */
const KNOWN = loadMigrations().map((m) => ({ version: m.version, name: m.name }));
const VERSIONS = KNOWN.map((m) => m.version);
const FUTURE = (VERSIONS.at(-1) ?? 0) + 1;

/** Opens a file with plain better-sqlite3, to look at (or tamper with) it behind Perdure's back. */
function raw<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

function tableNames(file: string): string[] {
  return raw(file, (db) =>
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all(),
  ) as string[];
}

function migrations(file: string): { version: number; name: string; applied_at: number }[] {
  return raw(file, (db) => db.prepare("SELECT * FROM perdure_migrations ORDER BY version").all()) as {
    version: number;
    name: string;
    applied_at: number;
  }[];
}

function openError(file: string): unknown {
  try {
    sqliteStore(file).close();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("SQLite store: schema and files", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "perdure-sqlite-"));
    file = join(dir, "store.db");
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates the schema in a new file and records every migration, from version 1 on", async () => {
    const store = sqliteStore(file);
    expect(store.location).toBe(`sqlite:${file}`);
    await store.close();
    expect(tableNames(file)).toEqual(expect.arrayContaining(TABLES));
    const applied = migrations(file);
    expect(applied.map((m) => ({ version: m.version, name: m.name }))).toEqual(KNOWN);
    expect(applied[0]).toMatchObject({ version: 1, name: "init" });
    expect(raw(file, (db) => db.pragma("journal_mode", { simple: true }))).toBe("wal");
  });

  it("reopening an up-to-date file changes nothing and keeps the data", async () => {
    const first = sqliteStore(file);
    await first.createInstances([
      { instanceId: "keep", name: "flow", executionId: "e1", input: [1, 2], createdAt: 1, replaceIfFinished: false },
    ]);
    await first.close();
    const schema = raw(file, (db) => db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all());
    const applied = migrations(file);

    const second = sqliteStore(file);
    expect(second.commitCount).toBe(0);
    expect((await second.getInstance("keep"))?.input).toEqual([1, 2]);
    await second.close();
    expect(migrations(file)).toEqual(applied);
    expect(raw(file, (db) => db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all())).toEqual(
      schema,
    );
  });

  it("refuses a file with a newer schema version with SCHEMA_TOO_NEW, leaving it untouched", async () => {
    await sqliteStore(file).close();
    raw(file, (db) => {
      db.prepare("INSERT INTO perdure_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)").run(
        FUTURE,
      );
      db.exec("CREATE TABLE future_table (x INTEGER)");
    });
    const before = readFileSync(file);
    const error = openError(file);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as PerdureError).code).toBe("SCHEMA_TOO_NEW");
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(migrations(file).map((m) => m.version)).toEqual([...VERSIONS, FUTURE]);
  });

  it("refuses a file that is not SQLite with NOT_A_PERDURE_DATABASE, leaving its bytes unchanged", () => {
    const bytes = randomBytes(8192);
    writeFileSync(file, bytes);
    const error = openError(file);
    expect(error).toBeInstanceOf(NotAPerdureDatabaseError);
    expect((error as PerdureError).code).toBe("NOT_A_PERDURE_DATABASE");
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it("refuses an SQLite file that holds other tables, leaving it unchanged", () => {
    raw(file, (db) => {
      db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
      db.prepare("INSERT INTO customers (name) VALUES (?)").run("Ada");
    });
    const before = readFileSync(file);
    const error = openError(file);
    expect(error).toBeInstanceOf(NotAPerdureDatabaseError);
    expect((error as PerdureError).code).toBe("NOT_A_PERDURE_DATABASE");
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(tableNames(file)).toEqual(["customers"]);
    expect(raw(file, (db) => db.pragma("journal_mode", { simple: true }))).toBe("delete");
  });

  it("two connections opening one new file both succeed with one schema", async () => {
    const a = sqliteStore(file);
    const b = sqliteStore(file);
    await a.createInstances([
      { instanceId: "x", name: "flow", executionId: "e", input: null, createdAt: 1, replaceIfFinished: false },
    ]);
    expect((await b.getInstance("x"))?.name).toBe("flow");
    await a.close();
    await b.close();
    expect(migrations(file)).toHaveLength(KNOWN.length);
  });

  it("child processes opening one new file at the same moment all succeed with one schema", async () => {
    const goFile = join(dir, "go");
    const children = [0, 1, 2].map(() => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, goFile], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      const exited = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        child.on("exit", (code) => resolve({ code, out, err }));
      });
      const ready = new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out.includes("ready")) resolve();
        };
        child.stdout.on("data", check);
        child.on("exit", () => reject(new Error(`child exited before it was ready: ${err}`)));
      });
      return { ready, exited };
    });
    await Promise.all(children.map((c) => c.ready));
    expect(existsSync(file)).toBe(false);
    writeFileSync(goFile, "");
    const results = await Promise.all(children.map((c) => c.exited));
    for (const result of results) {
      expect(result.out.trim().split("\n")).toEqual(["ready", "opened"]);
      expect(result.code).toBe(0);
    }
    expect(migrations(file).map((m) => m.version)).toEqual(VERSIONS);
    expect(tableNames(file)).toEqual(expect.arrayContaining(TABLES));
  });

  it("opens an in-memory store for tests", async () => {
    const store = sqliteStore(":memory:");
    expect(store.location).toBe("sqlite::memory:");
    expect(await store.getInstance("none")).toBeUndefined();
    await store.close();
  });

  it("refuses bad options with INVALID_ARGUMENT", () => {
    expect(() => sqliteStore("")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => sqliteStore(file, { durability: "fast" as "full" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(existsSync(file)).toBe(false);
  });

  it("refuses calls on a closed store with STORE_CLOSED", async () => {
    const store = sqliteStore(file);
    await store.close();
    await expect(store.getInstance("x")).rejects.toMatchObject({ code: "STORE_CLOSED" });
  });
});
