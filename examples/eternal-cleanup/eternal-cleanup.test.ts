import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type ExampleRun as Run, runExample as runChild } from "../../test/helpers/runExample.js";
import { CLEANUP_INSTANCE_ID } from "./orchestration.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

interface Summary {
  status: string;
  iterations: number;
  removed: number;
  remaining: number;
  removedPerIteration: number[];
  historyLengths: number[];
  finalHistoryLength: number;
}

const runExample = (args: string[]): Promise<Run> => runChild(MAIN, args);

/** The JSON summary: the last line of stdout. */
function summaryOf(run: Run): Summary {
  expect(run.code, run.stderr).toBe(0);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Summary;
}

describe("eternal-cleanup example", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-cleanup-"));
    dirs.push(dir);
    return join(dir, "cleanup.db");
  }

  const run = (db: string, iterations: number): Promise<Run> =>
    runExample(["--iterations", String(iterations), "--interval", "50ms", "--files", "10", "--batch", "3", "--db", db]);

  it("cleans up in batches across iterations, continuing as new each time", async () => {
    const db = tempDb();
    const summary = summaryOf(await run(db, 6));
    expect(summary).toMatchObject({
      status: "Completed",
      iterations: 6,
      removed: 10,
      remaining: 0,
      removedPerIteration: [3, 3, 3, 1, 0, 0],
    });
    expect(readdirSync(`${db}-tmp`)).toEqual([]);

    // The final history is one execution's: started with iteration 6, one activity, no timer.
    const store = sqliteStore(db, { durability: "normal" });
    try {
      const history = await createClient({ store }).getHistory(CLEANUP_INSTANCE_ID);
      expect(history.length).toBe(summary.finalHistoryLength);
      const started = history.filter((e) => e.type === "ExecutionStarted");
      expect(started).toHaveLength(1);
      expect(started[0]).toMatchObject({ input: { iteration: 6, removedSoFar: 10 } });
      expect(history.filter((e) => e.type === "TaskScheduled")).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("keeps the history flat: it does not grow with the number of iterations", async () => {
    const short = summaryOf(await run(tempDb(), 2));
    const long = summaryOf(await run(tempDb(), 8));
    expect(short).toMatchObject({ iterations: 2, removed: 6, remaining: 4 });
    expect(long.historyLengths).toHaveLength(8);

    const perIteration = long.historyLengths[0] as number;
    expect(perIteration).toBeGreaterThan(0);
    expect(perIteration).toBeLessThan(10);
    expect(long.historyLengths).toEqual(Array(8).fill(perIteration));
    expect(Math.max(...short.historyLengths)).toBe(perIteration);
    expect(long.finalHistoryLength).toBeLessThanOrEqual(perIteration);
  });
});
