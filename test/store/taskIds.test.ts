import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SqliteStore, sqliteStore } from "../../src/store/sqlite/index.js";
import { TaskIdAllocator } from "../../src/store/sqlite/taskIds.js";
import { newInstance, T0 } from "./contractKit.js";

// Activity task ids come from blocks reserved in sqlite_sequence, not from AUTOINCREMENT row
// by row: these tests hold the allocator to what AUTOINCREMENT promised.
describe("SQLite activity task ids", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "perdure-task-ids-"));
    file = join(dir, "store.db");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts instance `id` and has its first episode schedule `tasks` activities. */
  const schedule = async (store: SqliteStore, id: string, tasks: number, workerId = "w1"): Promise<number[]> => {
    await store.createInstances([newInstance(id)]);
    const [ready] = await store.findReadyInstances(workerId, T0, 1, []);
    if (!ready) throw new Error(`${id} is not ready`);
    const [result] = await store.commitEpisodes([
      {
        instanceId: id,
        executionId: ready.executionId,
        workerId,
        leaseToken: ready.leaseToken,
        acquireLease: true,
        releaseLease: false,
        historyLength: 0,
        newEvents: ready.messages.map((m) => m.event),
        consumedMessageIds: ready.messages.map((m) => m.id),
        newTasks: Array.from({ length: tasks }, (_, i) => ({
          step: i,
          attempt: 1,
          name: "a",
          input: i,
          leaseToCommitter: true,
        })),
        newTimers: [],
        cancelledTimers: [],
        newInstances: [],
        status: "Running",
        now: T0,
        leaseExpiresAt: T0 + 60_000,
      },
    ]);
    if (!result?.ok) throw new Error(`${id}: ${JSON.stringify(result)}`);
    return result.taskIds;
  };

  it("are unique across two store objects on one file (as two processes), and never given twice", async () => {
    const a = sqliteStore(file);
    const b = sqliteStore(file);
    try {
      const ids = [
        ...(await schedule(a, "a1", 3)),
        ...(await schedule(b, "b1", 2)),
        ...(await schedule(a, "a2", 1_500)),
        ...(await schedule(b, "b2", 4)),
      ];
      expect(new Set(ids).size).toBe(ids.length);
      // Deleting the newest tasks does not free their ids, as AUTOINCREMENT would not.
      const newest = Math.max(...ids);
      raw((db) => db.prepare("DELETE FROM activity_tasks").run());
      const later = [...(await schedule(a, "a3", 1)), ...(await schedule(b, "b3", 1))];
      for (const id of later) expect(ids).not.toContain(id);
      // Other writers of the table (AUTOINCREMENT inserts) stay clear of every reserved block.
      const inserted = raw(
        (db) =>
          db
            .prepare(
              `INSERT INTO activity_tasks (instance_id, execution_id, step, attempt, name, input, visible_at, queue)
               VALUES ('x', 'x', 0, 1, 'a', '0', 0, 'default')`,
            )
            .run().lastInsertRowid,
      );
      expect(Number(inserted)).toBeGreaterThan(Math.max(newest, ...later));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a block reserved by a transaction that rolled back is not used", () => {
    sqliteStore(file).close();
    const first = new Database(file);
    const second = new Database(file);
    try {
      const mine = new TaskIdAllocator(first);
      expect(() =>
        first.transaction(() => {
          mine.ensure(1);
          throw new Error("the commit fails");
        })(),
      ).toThrow("the commit fails");
      mine.discard();
      // The rolled-back reservation is free again: the other connection gets it...
      const theirs = new TaskIdAllocator(second);
      second.transaction(() => theirs.ensure(1))();
      const taken = theirs.take();
      // ...and this one reserves past it rather than handing out the same ids.
      first.transaction(() => mine.ensure(1))();
      expect(mine.take()).toBeGreaterThan(taken);
    } finally {
      first.close();
      second.close();
    }
  });

  function raw<T>(use: (db: Database.Database) => T): T {
    const db = new Database(file);
    try {
      return use(db);
    } finally {
      db.close();
    }
  }
});
