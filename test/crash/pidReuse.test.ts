import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient, createWorker, silentLogger, type Worker } from "../../src/index.js";
import { localWorkerScope } from "../../src/worker/workerIdentity.js";
import { crashWorkflow, expectedOutput } from "./crashWorkflow.js";
import { CrashLab } from "./workerChild.js";

const LONG_LEASE_MS = 600_000;

/**
 * A restarted container (Docker restart policy, a Kubernetes container restart) keeps its
 * hostname and gets the same pid as the process that crashed, often pid 1. The leases the
 * crashed worker left then name a process that looks alive: this very one.
 */
describe("restart with the same pid as the crashed worker", () => {
  let lab: CrashLab;
  beforeEach(() => {
    lab = new CrashLab();
  });
  const workers: Worker[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await lab.dispose();
  });

  it("frees the crashed incarnation's leases at start and resumes at once", async () => {
    const { chain, steps } = crashWorkflow(lab.logFile, 10);
    const store = lab.openStore();
    const client = createClient({ store, pollIntervalMs: 50 });
    await client.start(chain, 2, { instanceId: "reborn" });

    // What the crashed incarnation left: a live-looking lease, valid for ten more minutes.
    const previous = `${localWorkerScope()}:${process.pid}:0ld0ld00`;
    const db = new Database(lab.dbFile);
    db.prepare(
      "UPDATE instances SET lease_owner = ?, lease_token = lease_token + 1, lease_expires_at = ? WHERE instance_id = ?",
    ).run(previous, Date.now() + LONG_LEASE_MS, "reborn");
    db.close();

    const worker = createWorker({
      store,
      orchestrations: [chain],
      activities: steps,
      logger: silentLogger,
      handleSignals: false,
      leaseTtlMs: LONG_LEASE_MS,
    });
    workers.push(worker);
    await worker.start();
    expect(await store.listLeaseOwners()).not.toContain(previous);
    const status = await client.waitForCompletion<number, number>("reborn", { timeout: 10_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(expectedOutput(2));
  });

  it("leaves alone the leases of another live worker of this same process", async () => {
    const { chain, steps } = crashWorkflow(lab.logFile, 200);
    const store = lab.openStore();
    const client = createClient({ store, pollIntervalMs: 50 });
    const options = { store, orchestrations: [chain], activities: steps, logger: silentLogger, handleSignals: false };
    const first = createWorker({ ...options, leaseTtlMs: LONG_LEASE_MS });
    workers.push(first);
    await first.start();
    await client.start(chain, 3, { instanceId: "shared" });
    // Wait until the first worker holds the instance's lease.
    const deadline = Date.now() + 10_000;
    while (!(await store.listLeaseOwners()).includes(first.id)) {
      if (Date.now() > deadline) throw new Error("the first worker never took a lease");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const second = createWorker({ ...options, leaseTtlMs: LONG_LEASE_MS });
    workers.push(second);
    await second.start();
    expect(await store.listLeaseOwners()).toContain(first.id);
    const status = await client.waitForCompletion<number, number>("shared", { timeout: 10_000 });
    expect(status.output).toBe(expectedOutput(3));
  });
});
