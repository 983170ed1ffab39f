import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreClosedError } from "../../src/index.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { ReadBatch } from "../../src/store/sqlite/readBatch.js";
import { newInstance } from "./contractKit.js";

describe("SQLite reads asked for in one turn (ReadBatch)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "perdure-reads-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers each status and record read of a burst with its own instance", async () => {
    const store = sqliteStore(join(dir, "store.db"));
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `i${i}`);
      await store.createInstances(ids.map((id, i) => newInstance(id, { input: { n: i } })));
      const [records, statuses, missing] = await Promise.all([
        Promise.all(ids.map((id) => store.getInstance(id))),
        Promise.all(ids.map((id) => store.getRuntimeStatus(id))),
        store.getInstance("nobody"),
      ]);
      expect(records.map((r) => [r?.instanceId, r?.input])).toEqual(ids.map((id, i) => [id, { n: i }]));
      expect(statuses).toEqual(ids.map(() => "Pending"));
      expect(missing).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("a read that fails fails alone; the others of its turn are answered", async () => {
    const db = new Database(join(dir, "raw.db"));
    try {
      db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)");
      const reads = new ReadBatch(db);
      const count = () => db.prepare("SELECT COUNT(*) FROM t").pluck().get();
      const results = await Promise.allSettled([
        reads.run(count),
        reads.run(() => db.prepare("SELECT * FROM no_such_table").all()),
        reads.run(count),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(results[0]).toMatchObject({ value: 2 });
      expect(db.inTransaction).toBe(false);
    } finally {
      db.close();
    }
  });

  it("a read asked for just before the store closes is refused with STORE_CLOSED", async () => {
    const store = sqliteStore(join(dir, "store.db"));
    await store.createInstances([newInstance("a")]);
    const read = store.getInstance("a");
    await store.close();
    await expect(read).rejects.toBeInstanceOf(StoreClosedError);
  });
});
