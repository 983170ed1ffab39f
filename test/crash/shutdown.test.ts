import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { expectedOutput, type LogLine } from "./crashWorkflow.js";
import { activityLogProblems, historyProblems } from "./logChecks.js";
import { CrashLab, type Exit, type WorkerChild } from "./workerChild.js";

/** Longer than the test: a new worker must not need the old leases to expire. */
const LONG_LEASE_MS = 600_000;
/** How long a signalled worker may take to stop by itself before the test fails. */
const EXIT_BOUND_MS = 20_000;

/** Resolves with the exit, or rejects if the process has not exited within `ms`. */
function exitWithin(child: WorkerChild, ms: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${child.pid} still running ${ms} ms after the signal:\n${child.output()}`)),
      ms,
    );
    void child.exited.then((exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
}

/** Every lease still held in the store file, read with a connection of its own. */
function heldLeases(dbFile: string): { table: string; id: string; owner: string }[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db
      .prepare<[], { table: string; id: string; owner: string }>(
        `SELECT 'instances' AS "table", instance_id AS id, lease_owner AS owner FROM instances WHERE lease_owner IS NOT NULL
         UNION ALL
         SELECT 'activity_tasks', CAST(id AS TEXT), lease_owner FROM activity_tasks WHERE lease_owner IS NOT NULL
         UNION ALL
         SELECT 'held_tasks', CAST(id AS TEXT), lease_owner FROM held_tasks`,
      )
      .all();
  } finally {
    db.close();
  }
}

// Each test starts two worker processes and may wait up to EXIT_BOUND_MS for one to stop.
describe("graceful shutdown of a worker process", { timeout: 60_000 }, () => {
  let lab: CrashLab;
  beforeEach(() => {
    lab = new CrashLab();
  });
  afterEach(async () => {
    await lab.dispose();
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "on %s with an activity in flight: exits by itself, frees its leases, loses nothing",
    async (signal) => {
      const a = await lab.spawnWorker({ start: { calm: 11 }, stepMs: 300, leaseTtlMs: LONG_LEASE_MS });
      await lab.waitForLog((lines) => lines.some((l) => l.event === "start" && l.step === 2 && l.pid === a.pid), a);
      process.kill(a.pid, signal);
      const exit = await exitWithin(a, EXIT_BOUND_MS);
      // Either the engine re-raised the signal after stopping, or the process ended on its own.
      expect(exit.signal === signal || exit.code === 0, `exit ${JSON.stringify(exit)}:\n${a.output()}`).toBe(true);
      expect(a.output(), "the worker reported no error while stopping").not.toMatch(/\[perdure\]/);

      // The stop waited for the in-flight step (well inside shutdownTimeoutMs) and recorded it.
      const log = lab.readLog();
      const ranByA = (event: LogLine["event"]) => log.filter((l) => l.pid === a.pid && l.event === event);
      expect(ranByA("end").map((l) => l.step)).toEqual(ranByA("start").map((l) => l.step));
      const store = lab.openStore();
      const client = createClient({ store, pollIntervalMs: 50 });
      const recorded = (await client.getHistory("calm")).filter((e) => e.type === "TaskCompleted");
      expect(recorded).toHaveLength(ranByA("end").length);
      expect(heldLeases(lab.dbFile), "a gracefully stopped worker holds no lease").toEqual([]);

      const b = await lab.spawnWorker({ leaseTtlMs: LONG_LEASE_MS });
      const status = await client.waitForCompletion<number, number>("calm", { timeout: 20_000 });
      expect(status.runtimeStatus).toBe("Completed");
      expect(status.output).toBe(expectedOutput(11));
      expect(historyProblems(await client.getHistory("calm"), "calm", 11)).toEqual([]);
      await lab.kill(b);
      // No kill at all: every step ran exactly once, across the two workers.
      expect(activityLogProblems(lab.readLog(), "calm", [])).toEqual([]);
      expect(lab.readLog().some((l) => l.pid === b.pid)).toBe(true);
    },
  );

  it("on SIGTERM with an activity outlasting shutdownTimeoutMs: exits in time and leaves the step for resumption", async () => {
    // Step 1 takes 3 s here, the stop waits 200 ms for it.
    const a = await lab.spawnWorker({
      start: { slow: 4 },
      stepMs: 3_000,
      shutdownTimeoutMs: 200,
      leaseTtlMs: LONG_LEASE_MS,
    });
    await lab.waitForLog((lines) => lines.some((l) => l.event === "start" && l.step === 1 && l.pid === a.pid), a);
    process.kill(a.pid, "SIGTERM");
    const exit = await exitWithin(a, EXIT_BOUND_MS);
    expect(exit.signal === "SIGTERM" || exit.code === 0, `exit ${JSON.stringify(exit)}:\n${a.output()}`).toBe(true);
    expect(lab.readLog().filter((l) => l.pid === a.pid && l.event === "end")).toEqual([]);
    const store = lab.openStore();
    const client = createClient({ store, pollIntervalMs: 50 });
    expect((await client.getHistory("slow")).filter((e) => e.type === "TaskCompleted")).toEqual([]);
    expect(heldLeases(lab.dbFile), "the abandoned step is free for another worker").toEqual([]);

    const b = await lab.spawnWorker({ stepMs: 50, leaseTtlMs: LONG_LEASE_MS });
    const status = await client.waitForCompletion<number, number>("slow", { timeout: 20_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(expectedOutput(4));
    expect(historyProblems(await client.getHistory("slow"), "slow", 4)).toEqual([]);
    await lab.kill(b);
    // Step 1 ran twice (abandoned, then again under the same key); the others once.
    expect(activityLogProblems(lab.readLog(), "slow", [a.pid])).toEqual([]);
  });
});
