import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "perdure";
import { type SqliteStore, sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type ExampleRun as RunResult, startExample } from "../../test/helpers/runExample.js";
import type { MigrationStatus } from "./activities.js";
import { MIGRATION_INSTANCE_ID } from "./orchestration.js";
import { RecordsDatabase } from "./recordsDatabase.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

interface Summary {
  instanceId: string;
  status: string;
  records: number;
  targetRows: number;
  duplicates: number;
  resumed: boolean;
  elapsedMs: number;
}

/** Starts the migration as a real child process. */
const startMigration = (args: string[]) => startExample(MAIN, args);
const runMigration = (args: string[]): Promise<RunResult> => startMigration(args).done;

/** The one JSON line the program writes to stdout. */
function summaryOf(run: RunResult): Summary {
  const lines = run.stdout.trim().split("\n");
  expect(lines, `stderr: ${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Summary;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("migrate-records example", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-migrate-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  function observe(file: string): SqliteStore {
    const store = sqliteStore(file, { durability: "normal" });
    cleanups.push(() => store.close());
    return store;
  }

  it("resumes after SIGKILL and loads every record exactly once", async () => {
    const db = join(tempDir(), "migrate.db");
    const args = ["--records", "20000", "--batch", "200", "--db", db];
    const client = createClient({ store: observe(db) });

    const first = startMigration(args);
    // Kill as soon as some batches are recorded, while the migration is still running.
    let progress: MigrationStatus | undefined;
    for (;;) {
      const status = await client.getStatus(MIGRATION_INSTANCE_ID);
      progress = status?.customStatus as MigrationStatus | undefined;
      if ((progress?.lastProcessedId ?? 0) > 0) break;
      if (first.child.exitCode !== null) throw new Error(`first run ended early: ${(await first.done).stderr}`);
      await sleep(5);
    }
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.stdout).toBe("");
    const afterKill = await client.getStatus<unknown, unknown>(MIGRATION_INSTANCE_ID);
    expect(afterKill?.runtimeStatus).toBe("Running");
    const migratedBeforeKill = (afterKill?.customStatus as MigrationStatus | undefined)?.migratedRecords ?? 0;
    expect(migratedBeforeKill).toBeGreaterThan(0);
    expect(migratedBeforeKill).toBeLessThan(20000);

    const second = await runMigration(args);
    expect(second.code, second.stderr).toBe(0);
    const summary = summaryOf(second);
    expect(summary).toMatchObject({
      instanceId: MIGRATION_INSTANCE_ID,
      status: "Completed",
      records: 20000,
      targetRows: 20000,
      duplicates: 0,
      resumed: true,
    });

    const final = await client.getStatus<unknown, MigrationStatus>(MIGRATION_INSTANCE_ID);
    expect(final?.output).toMatchObject({
      processingStatus: "Completed",
      processingStage: "done",
      lastProcessedId: 20000,
      migratedRecords: 20000,
    });
    // lastUpdated is the orchestration's clock: an ISO time no later than the last update.
    expect(Date.parse(final?.output?.lastUpdated ?? "")).toBeLessThanOrEqual(final?.lastUpdatedAt.getTime() ?? 0);

    // A run after completion reports the finished instance and does nothing.
    const historyBefore = (await client.getHistory(MIGRATION_INSTANCE_ID)).length;
    const third = await runMigration(args);
    expect(third.code, third.stderr).toBe(0);
    expect(summaryOf(third)).toMatchObject({ status: "Completed", targetRows: 20000, duplicates: 0, resumed: true });
    expect((await client.getHistory(MIGRATION_INSTANCE_ID)).length).toBe(historyBefore);
  });

  it("refuses bad flags with exit code 2 and a message", async () => {
    const db = join(tempDir(), "flags.db");
    const cases = [["--records", "abc"], ["--records", "0"], ["--batch", "-5"], ["--batch", "1.5"], ["--nope"]];
    const runs = await Promise.all(cases.map((args) => runMigration([...args, "--db", db])));
    runs.forEach((run, i) => {
      const args = cases[i] as string[];
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(args[0]);
    });
    // Nothing was created for a run that never started.
    expect(existsSync(db)).toBe(false);
  });

  it("refuses to continue a migration with other records or batch settings", async () => {
    const db = join(tempDir(), "mismatch.db");
    const first = await runMigration(["--records", "500", "--batch", "100", "--db", db]);
    expect(summaryOf(first)).toMatchObject({ status: "Completed", targetRows: 500, resumed: false });
    const other = await runMigration(["--records", "600", "--batch", "100", "--db", db]);
    expect(other.code).toBe(2);
    expect(other.stdout).toBe("");
    expect(other.stderr).not.toBe("");
  });
});

describe("RecordsDatabase", () => {
  it("loads a batch once per idempotency key and never loads half a batch", () => {
    const dir = mkdtempSync(join(tmpdir(), "perdure-records-"));
    const records = new RecordsDatabase(join(dir, "records.sqlite"));
    try {
      records.seed(25);
      records.seed(25); // resumable: a second call adds nothing
      expect(records.sourceCount()).toBe(25);

      const batch = records.extract(0, 10);
      expect(batch).toEqual({ from: 1, to: 10, count: 10 });
      expect(records.extract(0, 10)).toEqual(batch); // extract again: same rows, upserted
      expect(records.transform(batch)).toBe(10);
      expect(records.transform(batch)).toBe(10);
      expect(records.load(batch, "key-1", Date.now())).toBe(true);
      expect(records.load(batch, "key-1", Date.now())).toBe(false);
      expect(records.counts()).toEqual({ targetRows: 10, duplicates: 0 });

      // A different key for a batch whose staging rows are gone must not load anything.
      expect(() => records.load(batch, "key-2", Date.now())).toThrow();
      expect(records.counts()).toEqual({ targetRows: 10, duplicates: 0 });
      expect(records.extract(25, 10).count).toBe(0);
    } finally {
      records.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
