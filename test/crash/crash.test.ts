import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { expectedOutput, type LogLine } from "./crashWorkflow.js";
import { activityLogProblems, historyProblems } from "./logChecks.js";
import { CrashLab, type WorkerChild } from "./workerChild.js";

/**
 * Far longer than any test: if a restarted worker resumed only once the dead worker's
 * leases expired, these tests would time out. They pass because a new worker frees the
 * leases of dead processes on its host at start (src/worker/workerIdentity.ts).
 */
const LONG_LEASE_MS = 600_000;

const line = (event: LogLine["event"], instanceId: string, step: number, pid: number) => (lines: LogLine[]) =>
  lines.some((l) => l.event === event && l.instanceId === instanceId && l.step === step && l.pid === pid);

const lastLineOf = (lines: LogLine[], instanceId: string, pid: number): LogLine | undefined =>
  lines.filter((l) => l.instanceId === instanceId && l.pid === pid).at(-1);

// Each test starts four worker processes; on a loaded machine that alone can take 15 s.
describe("crash recovery: SIGKILL of the worker process", { timeout: 60_000 }, () => {
  let lab: CrashLab;
  beforeEach(() => {
    lab = new CrashLab();
  });
  afterEach(async () => {
    await lab.dispose();
  });

  /**
   * Starts a worker after `dead` was killed and checks that it freed the dead worker's
   * leases as it started. `heldLeases`: the kill surely left leases behind (work in flight).
   */
  async function restartAfter(dead: WorkerChild, heldLeases = true): Promise<WorkerChild> {
    const store = lab.openStore();
    if (heldLeases) {
      expect(await store.listLeaseOwners(), "the killed worker should still hold leases").toContain(dead.workerId);
    }
    const next = await lab.spawnWorker({ leaseTtlMs: LONG_LEASE_MS });
    expect(await store.listLeaseOwners(), "a new worker should free a dead local worker's leases").not.toContain(
      dead.workerId,
    );
    return next;
  }

  it("resumes a 4-step chain killed in step 1, after step 2 and in step 3, running completed steps once", async () => {
    // 300 ms in flight: ample room for the test to see a start line and kill before the end.
    const stepMs = 300;
    const a = await lab.spawnWorker({ start: { one: 5 }, stepMs, leaseTtlMs: LONG_LEASE_MS });
    await lab.waitForLog(line("start", "one", 1, a.pid), a);
    await lab.kill(a);
    expect(lastLineOf(lab.readLog(), "one", a.pid), "kill 1 should land in step 1").toMatchObject({
      event: "start",
      step: 1,
    });

    const b = await restartAfter(a);
    await lab.waitForLog(line("end", "one", 2, b.pid), b);
    await lab.kill(b);
    // Right after step 2 ended: its commit may or may not have landed, step 3 may have begun.
    expect(lastLineOf(lab.readLog(), "one", b.pid)).toSatisfy(
      (l: LogLine | undefined) => (l?.event === "end" && l.step === 2) || (l?.event === "start" && l.step === 3),
    );

    const c = await restartAfter(b);
    await lab.waitForLog(line("start", "one", 3, c.pid), c);
    await lab.kill(c);
    expect(lastLineOf(lab.readLog(), "one", c.pid), "kill 3 should land in step 3").toMatchObject({
      event: "start",
      step: 3,
    });

    const d = await restartAfter(c);
    const store = lab.openStore();
    const client = createClient({ store, pollIntervalMs: 50 });
    const status = await client.waitForCompletion<number, number>("one", { timeout: 20_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(expectedOutput(5));
    expect(historyProblems(await client.getHistory("one"), "one", 5)).toEqual([]);
    await lab.kill(d);

    const log = lab.readLog();
    expect(activityLogProblems(log, "one", [a.pid, b.pid, c.pid])).toEqual([]);
    // Step 4 was never near a kill: it ran once, and only the last worker ran it.
    expect(log.filter((l) => l.step === 4 && l.event === "start").map((l) => l.pid)).toEqual([d.pid]);
  });

  it("completes 20 instances through 3 kills at random moments, no step completed twice", async () => {
    const inputs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`many-${i}`, i * 7 - 30]));
    let child = await lab.spawnWorker({ start: inputs, leaseTtlMs: LONG_LEASE_MS });
    const killed: number[] = [];
    const delays: number[] = [];
    for (let k = 0; k < 3; k++) {
      // A whole chain takes ~4 × 150 ms here: kills land before, inside or between steps.
      const delay = 30 + Math.floor(Math.random() * 400);
      delays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await lab.kill(child);
      killed.push(child.pid);
      child = await restartAfter(child, false);
    }

    const store = lab.openStore();
    const client = createClient({ store, pollIntervalMs: 50 });
    const problems: string[] = [];
    const log = () => lab.readLog();
    for (const [instanceId, input] of Object.entries(inputs)) {
      const status = await client.waitForCompletion<number, number>(instanceId, { timeout: 20_000 });
      if (status.runtimeStatus !== "Completed" || status.output !== expectedOutput(input)) {
        problems.push(`${instanceId}: ${status.runtimeStatus} with ${String(status.output)}`);
      }
      problems.push(...historyProblems(await client.getHistory(instanceId), instanceId, input));
    }
    await lab.kill(child);
    const lines = log();
    for (const instanceId of Object.keys(inputs)) problems.push(...activityLogProblems(lines, instanceId, killed));
    expect(problems, `kills after ${delays.join(", ")} ms`).toEqual([]);
  });
});
