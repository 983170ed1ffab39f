import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type ExampleRun as Run, runExample as runChild } from "../../test/helpers/runExample.js";
import { BACKUP_INSTANCE_ID } from "./orchestration.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Runs the example as a real child process, the way its npm script does. */
const runExample = (args: string[]): Promise<Run> => runChild(MAIN, args);

/** The JSON summary: the last line of stdout. */
function summaryOf(run: Run): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

describe("fan-out-fan-in example", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-fan-out-"));
    dirs.push(dir);
    return join(dir, "fan-out.db");
  }

  it("copies every file with one activity each and returns the total bytes", async () => {
    const db = tempDb();
    const files = 12;
    const summary = summaryOf(await runExample(["--files", String(files), "--db", db]));

    // File i holds i KiB: 1 + 2 + … + 12 = 78 KiB.
    expect(summary).toMatchObject({
      status: "Completed",
      resumed: false,
      files,
      totalBytes: (1024 * files * (files + 1)) / 2,
      activities: files + 1,
    });
    const backup = `${db}-files/backup`;
    expect(readdirSync(backup)).toHaveLength(files);
    expect(readFileSync(join(backup, "page-012.html"))).toEqual(readFileSync(`${db}-files/source/page-012.html`));

    // Fan-out, not a loop: every copy was scheduled before the first copy's result came in.
    const store = sqliteStore(db, { durability: "normal" });
    try {
      const history = await createClient({ store }).getHistory(BACKUP_INSTANCE_ID);
      const copies = history.filter((e) => e.type === "TaskScheduled" && e.name === "copyFileToBackup");
      expect(copies).toHaveLength(files);
      const lastScheduled = history.indexOf(copies.at(-1)!);
      const firstCompleted = history.findIndex((e) => e.type === "TaskCompleted" && e.step !== 1);
      expect(lastScheduled).toBeLessThan(firstCompleted);
      expect(history.filter((e) => e.type === "TaskCompleted")).toHaveLength(files + 1);
    } finally {
      await store.close();
    }
  });

  it("starts a new run over a finished one in the same store", async () => {
    const db = tempDb();
    expect(summaryOf(await runExample(["--files", "3", "--db", db]))).toMatchObject({ totalBytes: 6 * 1024 });
    expect(summaryOf(await runExample(["--files", "4", "--db", db]))).toMatchObject({
      status: "Completed",
      files: 4,
      totalBytes: 10 * 1024,
    });
  });

  it("exits 2 on a bad flag", async () => {
    const run = await runExample(["--files", "zero", "--db", tempDb()]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
