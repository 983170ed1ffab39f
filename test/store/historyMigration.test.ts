import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/index.js";
import { type SqliteStore, sqliteStore } from "../../src/store/sqlite/index.js";
import { loadMigrations } from "../../src/store/sqlite/migrate.js";
import { contractKit, LEASE, T0 } from "./contractKit.js";

/** The history of instance "a" as a version-4 store holds it: one row per event. */
const A_HISTORY: HistoryEvent[] = [
  { type: "OrchestratorStarted", timestamp: T0 },
  { type: "ExecutionStarted", timestamp: T0, name: "flow", input: 1, executionId: "a-exec" },
  { type: "TaskScheduled", timestamp: T0, step: 1, attempt: 1, name: "act", input: 1 },
];

/** Writes a store file at schema version 4 holding two instances, "a" (Running, with history) and "b" (Completed). */
function writeVersion4Store(file: string): void {
  const raw = new Database(file);
  raw.exec(
    "CREATE TABLE perdure_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  for (const m of loadMigrations().filter((m) => m.version <= 4)) {
    raw.exec(m.sql);
    raw.prepare("INSERT INTO perdure_migrations VALUES (?, ?, 0)").run(m.version, m.name);
  }
  const insert = raw.prepare(
    `INSERT INTO instances (instance_id, name, execution_id, status, input, created_at, updated_at, history_length)
     VALUES (?, 'flow', ?, ?, '1', ?, ?, ?)`,
  );
  // "b" first: the integer keys follow the old rowids, whatever the instance ids.
  insert.run("b", "b-exec", "Completed", T0, T0, 1);
  insert.run("a", "a-exec", "Running", T0 + 1, T0 + 1, A_HISTORY.length);
  const event = raw.prepare("INSERT INTO history (instance_id, idx, event) VALUES (?, ?, ?)");
  A_HISTORY.forEach((e, i) => {
    event.run("a", i, JSON.stringify(e));
  });
  event.run("b", 0, JSON.stringify({ type: "OrchestratorStarted", timestamp: T0 }));
  raw.close();
}

describe("migration 5 (history rows by episode) upgrades a version-4 store in place", () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "perdure-v4-"));
    file = join(dir, "store.db");
    writeVersion4Store(file);
    store = sqliteStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every instance and its history in order", async () => {
    expect(await store.getHistory("a")).toEqual(A_HISTORY);
    expect(await store.getHistory("b")).toEqual([{ type: "OrchestratorStarted", timestamp: T0 }]);
    expect(await store.getInstance("a")).toMatchObject({ instanceId: "a", runtimeStatus: "Running", input: 1 });
    expect((await store.getInstance("b"))?.runtimeStatus).toBe("Completed");
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare("SELECT instance_id FROM instances ORDER BY id").pluck().all()).toEqual(["b", "a"]);
      expect(raw.prepare("SELECT COUNT(*) FROM history").pluck().get()).toBe(4);
    } finally {
      raw.close();
    }
  });

  it("appends new episodes after the migrated events, and cuts across both", async () => {
    const kit = contractKit(() => store);
    const held = { instanceId: "a", executionId: "a-exec", workerId: "w1", leaseToken: 0, historyLength: 3 };
    const completed: HistoryEvent = { type: "TaskCompleted", timestamp: T0, step: 1, attempt: 1, result: 2 };
    const result = await kit.advance(
      { ...held, taskIds: [] },
      {
        acquireLease: true,
        newEvents: [{ type: "OrchestratorStarted", timestamp: T0 + 5 }, completed],
        leaseExpiresAt: T0 + LEASE,
      },
    );
    expect(result.ok).toBe(true);
    expect(await store.getHistory("a")).toEqual([
      ...A_HISTORY,
      { type: "OrchestratorStarted", timestamp: T0 + 5 },
      completed,
    ]);
    // A client-side event lands after them, in a row of its own.
    await store.terminateInstance("a", "stop", T0 + 9);
    const history = await store.getHistory("a");
    expect(history).toHaveLength(6);
    expect(history.at(-1)).toMatchObject({ type: "ExecutionTerminated", reason: "stop" });
  });

  it("gives new instances histories of their own", async () => {
    const kit = contractKit(() => store);
    const held = await kit.started("c");
    expect(await store.getHistory("c")).toHaveLength(held.historyLength);
    expect(await store.getHistory("a")).toEqual(A_HISTORY);
  });
});
