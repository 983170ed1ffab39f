// Migration 0004 (entity operation log) upgrades a version-3 store in place, and the log's
// rows stay bounded per entity however many batches commit: checked in the tables, on both stores.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/index.js";
import { ENTITY_OPERATION_LOG_SIZE, type EntityOperationRecord } from "../../src/store/entityStore.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import { loadMigrations as postgresMigrations } from "../../src/store/postgres/migrate.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { loadMigrations as sqliteMigrations } from "../../src/store/sqlite/migrate.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { LEASE, T0 } from "./contractKit.js";

/** A message that waited in a version-3 store. */
const V3_ROWS = [
  "INSERT INTO entities (entity_name, entity_key) VALUES ('counter', 'old')",
  `INSERT INTO entity_messages (entity_name, entity_key, kind, operation, input, visible_at)
   VALUES ('counter', 'old', 'operation', 'add', '5', ${T0})`,
];

const entry = (n: number): EntityOperationRecord => ({
  kind: "signal",
  operation: "add",
  sender: { kind: "client" },
  appliedAt: T0,
  ok: true,
  inputPreview: String(n),
});

/** Applies the old message as a batch that logs it, then `batches` more one-entry batches; returns the log. */
async function applyBatches(store: Store, batches: number) {
  const take = async () => {
    const [seen] = await store.readEntities([{ name: "counter", key: "old" }], T0, 100);
    if (!seen) throw new Error("no entity");
    await store.claimEntities("w1", [{ name: "counter", key: "old", leaseToken: seen.leaseToken }], T0, T0 + LEASE);
    const [held] = await store.readEntities([{ name: "counter", key: "old" }], T0, 100);
    if (!held) throw new Error("no entity");
    return held;
  };
  for (let n = 0; n <= batches; n++) {
    if (n > 0) {
      await store.sendEntityMessages([
        { name: "counter", key: "old", kind: "operation", operation: "add", input: n, visibleAt: T0 },
      ]);
    }
    const s = await take();
    expect(s.messages.map((m) => m.input)).toEqual([n === 0 ? 5 : n]);
    const [result] = await store.commitEntityBatches([
      {
        name: "counter",
        key: "old",
        workerId: "w1",
        leaseToken: s.leaseToken,
        consumedMessageIds: s.messages.map((m) => m.id),
        state: { exists: true, value: n },
        lock: null,
        replies: [],
        messages: [],
        newInstances: [],
        operations: [entry(n)],
        now: T0,
        leaseExpiresAt: T0 + LEASE,
      },
    ]);
    expect(result?.ok).toBe(true);
  }
  return (await store.getEntityOperations("counter", "old", 1_000)).operations;
}

const BATCHES = ENTITY_OPERATION_LOG_SIZE + 15;
const newest = Array.from({ length: ENTITY_OPERATION_LOG_SIZE }, (_, i) => String(BATCHES - i));

describe("the entity operation log in the tables", () => {
  it("on SQLite: upgrades a version-3 file, and keeps at most ENTITY_OPERATION_LOG_SIZE rows per entity", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perdure-v3-"));
    const file = join(dir, "store.db");
    try {
      const raw = new Database(file);
      raw.exec(
        "CREATE TABLE perdure_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      );
      for (const m of sqliteMigrations().filter((x) => x.version <= 3)) {
        raw.exec(m.sql);
        raw.prepare("INSERT INTO perdure_migrations VALUES (?, ?, 0)").run(m.version, m.name);
      }
      for (const sql of V3_ROWS) raw.exec(sql);
      raw.close();
      const store = sqliteStore(file);
      try {
        const log = await applyBatches(store, BATCHES);
        expect(log.map((r) => r.inputPreview)).toEqual(newest);
      } finally {
        await store.close();
      }
      const rows = new Database(file);
      try {
        expect(rows.prepare("SELECT COUNT(*) AS n FROM entity_operations").get()).toEqual({
          n: ENTITY_OPERATION_LOG_SIZE,
        });
      } finally {
        rows.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("on PostgreSQL", () => {
    let db: TestDatabase | undefined;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it("upgrades a version-3 schema, and keeps at most ENTITY_OPERATION_LOG_SIZE rows per entity", async () => {
      if (!db) throw new Error("no test database");
      const migrations = postgresMigrations().filter((m) => m.version <= 3);
      await db.query(`CREATE SCHEMA v3_store;
        CREATE TABLE v3_store.perdure_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL);
        SET search_path TO v3_store;
        ${migrations.map((m) => `${m.sql};\nINSERT INTO perdure_migrations VALUES (${m.version}, '${m.name}', 0);`).join("\n")}
        ${V3_ROWS.join(";\n")};`);
      const store = await postgresStore({ connectionString: db.url, schema: "v3_store" });
      try {
        const log = await applyBatches(store, BATCHES);
        expect(log.map((r) => r.inputPreview)).toEqual(newest);
      } finally {
        await store.close();
      }
      const { rows } = await db.query("SELECT COUNT(*)::int AS n FROM v3_store.entity_operations");
      expect(rows).toEqual([{ n: ENTITY_OPERATION_LOG_SIZE }]);
    });
  });
});
