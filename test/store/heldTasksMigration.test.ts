import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { loadMigrations } from "../../src/store/sqlite/migrate.js";
import { LEASE, T0 } from "./contractKit.js";

/** A version-6 file as a worker left it: a Running instance whose fast-path task is leased in activity_tasks. */
function versionSixFile(file: string): void {
  const raw = new Database(file);
  raw.exec(
    "CREATE TABLE perdure_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  for (const m of loadMigrations().filter((m) => m.version <= 6)) {
    raw.exec(m.sql);
    raw.prepare("INSERT INTO perdure_migrations VALUES (?, ?, 0)").run(m.version, m.name);
  }
  raw.exec(
    `INSERT INTO instances (instance_id, name, execution_id, status, input, created_at, updated_at, history_length,
       lease_owner, lease_token, lease_expires_at)
     VALUES ('old', 'flow', 'old-exec', 'Running', '1', ${T0}, ${T0}, 0, 'w-old', 1, ${T0 + LEASE})`,
  );
  raw.exec(
    `INSERT INTO activity_tasks (id, instance_id, execution_id, step, attempt, name, input, visible_at,
       lease_owner, lease_token, lease_expires_at)
     VALUES (7, 'old', 'old-exec', 1, 1, 'act', '2', ${T0}, 'w-old', 1, ${T0 + LEASE})`,
  );
  raw.close();
}

describe("the held-tasks migration (version 7)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "perdure-v6-"));
    file = join(dir, "store.db");
    versionSixFile(file);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("leaves a task leased before it where it is: its lease ends as before, and another worker claims it", async () => {
    const store = sqliteStore(file);
    try {
      expect(await store.claimActivityTasks("w2", T0 + 1, T0 + LEASE * 2, 10)).toEqual([]);
      const [task] = await store.claimActivityTasks("w2", T0 + LEASE + 1, T0 + LEASE * 2, 10);
      expect(task).toMatchObject({ id: 7, instanceId: "old", name: "act", input: 2 });
    } finally {
      await store.close();
    }
  });

  it("lets the old holder complete that task in its next commit", async () => {
    const store = sqliteStore(file);
    try {
      const [result] = await store.commitEpisodes([
        {
          instanceId: "old",
          executionId: "old-exec",
          workerId: "w-old",
          leaseToken: 1,
          acquireLease: false,
          historyLength: 0,
          newEvents: [{ type: "TaskCompleted", timestamp: T0 + 1, step: 1, attempt: 1, result: 3 }],
          consumedMessageIds: [],
          completedTaskIds: [7],
          newTasks: [],
          newTimers: [],
          cancelledTimers: [],
          newInstances: [],
          status: "Running",
          releaseLease: false,
          now: T0 + 1,
          leaseExpiresAt: T0 + LEASE,
        },
      ]);
      expect(result?.ok).toBe(true);
      expect(await store.claimActivityTasks("w2", T0 + LEASE * 5, T0 + LEASE * 6, 10)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
