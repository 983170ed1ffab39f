import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type ExampleRun as Run, runExample as runChild } from "../../test/helpers/runExample.js";
import { meter } from "./meter.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Runs the example as a real child process, the way its npm script does. */
const runExample = (args: string[]): Promise<Run> => runChild(MAIN, args);

describe("aggregator example", { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-aggregator-"));
    dirs.push(dir);
    return join(dir, "aggregator.db");
  }

  it("aggregates every reading sent by many sources exactly once, and the report sees them all", async () => {
    const db = tempDb();
    const run = await runExample(["--meters", "3", "--readings", "900", "--sources", "15", "--db", db]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") as {
      readings: number;
      sum: number;
      expectedSum: number;
      exact: boolean;
      meters: Record<string, { count: number }>;
    };
    expect(summary).toMatchObject({ readings: 900, exact: true });
    expect(summary.sum).toBe(summary.expectedSum);
    expect(Object.values(summary.meters).map((m) => m.count)).toEqual([300, 300, 300]);
    // The store agrees with the report.
    const store = sqliteStore(db, { durability: "normal" });
    try {
      const client = createClient({ store });
      const states = await Promise.all(["meter-1", "meter-2", "meter-3"].map((k) => client.getEntity(meter, k)));
      expect(states.reduce((n, s) => n + (s.state?.sum ?? 0), 0)).toBe(summary.expectedSum);
    } finally {
      await store.close();
    }
  });

  it("exits 2 on a bad flag", async () => {
    const run = await runExample(["--readings", "lots", "--db", tempDb()]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
