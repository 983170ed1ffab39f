import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/index.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import { loadMigrations as postgresMigrations } from "../../src/store/postgres/migrate.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { loadMigrations as sqliteMigrations } from "../../src/store/sqlite/migrate.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { LEASE, T0 } from "./contractKit.js";

/** Rows a version-1 store holds: a Pending instance with its start message, and an unleased activity task. */
const V1_ROWS = [
  `INSERT INTO instances (instance_id, name, execution_id, status, input, created_at, updated_at)
   VALUES ('old', 'flow', 'old-exec', 'Pending', '1', ${T0}, ${T0})`,
  `INSERT INTO activity_tasks (instance_id, execution_id, step, attempt, name, input, visible_at)
   VALUES ('old', 'old-exec', 1, 1, 'act', '2', ${T0})`,
];

/** What a store in the field that ran version 1 only must show after the queues migration. */
async function expectUpgraded(store: Store): Promise<void> {
  expect((await store.getInstance("old"))?.queue).toBe("default");
  const ready = await store.findReadyInstances("w1", T0, 10, []);
  expect(ready.map((r) => r.instanceId)).toEqual(["old"]);
  expect(await store.claimActivityTasks("w1", T0, T0 + LEASE, 10, ["gpu"])).toEqual([]);
  const [task] = await store.claimActivityTasks("w1", T0, T0 + LEASE, 10);
  expect(task).toMatchObject({ instanceId: "old", name: "act", input: 2, queue: "default" });
  expect(await store.listQueues()).toEqual([]);
}

describe("the queues migration upgrades a version-1 store in place", () => {
  it("on SQLite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perdure-v1-"));
    const file = join(dir, "store.db");
    try {
      const v1 = sqliteMigrations().find((m) => m.version === 1);
      const raw = new Database(file);
      raw.exec(
        "CREATE TABLE perdure_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
      );
      raw.exec(v1?.sql ?? "");
      raw.exec("INSERT INTO perdure_migrations VALUES (1, 'init', 0)");
      raw.exec(
        `INSERT INTO inbox (instance_id, execution_id, visible_at, event)
         VALUES ('old', 'old-exec', ${T0}, '{"type":"ExecutionStarted","timestamp":${T0},"name":"flow","input":1,"executionId":"old-exec"}')`,
      );
      for (const sql of V1_ROWS) raw.exec(sql);
      raw.close();
      const store = sqliteStore(file);
      try {
        await expectUpgraded(store);
      } finally {
        await store.close();
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

    it("keeps the rows and routes them to the default queue", async () => {
      if (!db) throw new Error("no test database");
      const v1 = postgresMigrations().find((m) => m.version === 1);
      const started = JSON.stringify({
        type: "ExecutionStarted",
        timestamp: T0,
        name: "flow",
        input: 1,
        executionId: "old-exec",
      });
      await db.query(`CREATE SCHEMA old_store;
        CREATE TABLE old_store.perdure_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL);
        SET search_path TO old_store;
        ${v1?.sql ?? ""};
        INSERT INTO perdure_migrations VALUES (1, 'init', 0);
        INSERT INTO inbox (instance_id, execution_id, visible_at, kind, event)
          VALUES ('old', 'old-exec', ${T0}, 'ExecutionStarted', '${started}');
        ${V1_ROWS.join(";\n")};`);
      const store = await postgresStore({ connectionString: db.url, schema: "old_store" });
      try {
        await expectUpgraded(store);
      } finally {
        await store.close();
      }
    });
  });
});
