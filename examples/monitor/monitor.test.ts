import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { MONITOR_INSTANCE_ID } from "./orchestration.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the example as a real child process, the way its npm script does. */
function startExample(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** The JSON summary: the last line of stdout. */
function summaryOf(run: Run): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("monitor example", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-monitor-"));
    dirs.push(dir);
    return join(dir, "monitor.db");
  }

  it("stops polling once the job has finished", async () => {
    // The expiry is far away, so the condition is met first however slow the machine is.
    const args = ["--job-takes", "300ms", "--interval", "100ms", "--expiry", "2m", "--db", tempDb()];
    const summary = summaryOf(await startExample(args).done);
    expect(summary).toMatchObject({ status: "Completed", outcome: "finished", jobStatus: "Succeeded" });
    expect(summary.checks).toBeGreaterThanOrEqual(1);
  });

  it("gives up at the expiry when the job never finishes", async () => {
    const db = tempDb();
    const args = ["--job-takes", "never", "--interval", "100ms", "--expiry", "500ms", "--db", db];
    const summary = summaryOf(await startExample(args).done);
    expect(summary).toMatchObject({ status: "Completed", outcome: "expired", jobStatus: "Running" });

    // Each check but the last is followed by a durable timer, and no timer runs past the expiry.
    const store = sqliteStore(db, { durability: "normal" });
    try {
      const history = await createClient({ store }).getHistory(MONITOR_INSTANCE_ID);
      const checks = history.filter((e) => e.type === "TaskScheduled");
      const timers = history.flatMap((e) => (e.type === "TimerCreated" ? [e] : []));
      expect(checks).toHaveLength(summary.checks as number);
      expect(timers).toHaveLength(checks.length - 1);
      for (const timer of timers) {
        expect(timer.fireAt).toBeLessThanOrEqual(Date.parse(summary.expiresAt as string));
      }
    } finally {
      await store.close();
    }
  });

  it("resumes the same monitor after the process is killed during a wait", async () => {
    const db = tempDb();
    const first = startExample(["--job-takes", "never", "--interval", "200ms", "--expiry", "2m", "--db", db]);
    const store = sqliteStore(db, { durability: "normal" });
    try {
      const client = createClient({ store });
      // Kill once the monitor has checked at least once (it is then waiting on a timer or checking again).
      for (;;) {
        const status = await client.getStatus(MONITOR_INSTANCE_ID);
        if ((status?.customStatus as { checks?: number } | undefined)?.checks) break;
        if (first.child.exitCode !== null) throw new Error(`first run ended early: ${(await first.done).stderr}`);
        await pause(10);
      }
      first.child.kill("SIGKILL");
      expect((await first.done).signal).toBe("SIGKILL");
      expect((await client.getStatus(MONITOR_INSTANCE_ID))?.runtimeStatus).toBe("Running");

      // The next run finds the instance active and resumes it; this time the job finishes.
      const second = summaryOf(await startExample(["--job-takes", "0", "--db", db]).done);
      expect(second).toMatchObject({ resumed: true, outcome: "finished", jobStatus: "Succeeded" });
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
      await store.close();
    }
    // Generous: if the dead worker's lease had to expire instead of being freed at once, that takes 30 s.
  }, 60_000);
});
