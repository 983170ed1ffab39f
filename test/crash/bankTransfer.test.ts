import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type AccountState, account } from "../../examples/bank-transfer/account.js";
import { auditBooks } from "../../examples/bank-transfer/audit.js";
import { accountKeys, openAndStart, planTransfers } from "../../examples/bank-transfer/plan.js";
import type { TransferResult } from "../../examples/bank-transfer/transfer.js";
import { createClient } from "../../src/index.js";
import { type SqliteStore, sqliteStore } from "../../src/store/sqlite/index.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL("./bankWorkerProcess.ts", import.meta.url));

interface Child {
  process: ChildProcess;
  workerId: string;
  exited: Promise<void>;
}

/** Starts a worker process and resolves once it reports ready. */
async function spawnWorker(dbFile: string, children: Set<Child>): Promise<Child> {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER_SCRIPT, dbFile], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const workerId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready:\n${out}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith('{"event":"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { workerId: string }).workerId);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker exited before ready:\n${out}`));
    });
  });
  const entry = { process: child, workerId, exited };
  children.add(entry);
  void exited.then(() => children.delete(entry));
  return entry;
}

/** SIGKILLs a worker and waits until it is reaped. */
async function kill(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
  await child.exited;
}

describe("bank transfers through SIGKILLs of the worker process", { timeout: 240_000 }, () => {
  const children = new Set<Child>();
  let dir: string | undefined;
  let store: SqliteStore | undefined;
  afterEach(async () => {
    for (const child of [...children]) await kill(child);
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the total, never goes negative, and runs every transfer once or not at all", async () => {
    dir = mkdtempSync(join(tmpdir(), "perdure-bank-crash-"));
    const dbFile = join(dir, "bank.db");
    store = sqliteStore(dbFile, { durability: "normal" });
    const client = createClient({ store, pollIntervalMs: 50 });
    const keys = accountKeys(8);
    const opening = 500;
    const plan = planTransfers(keys, 600, 300, Date.now() % 1_000_000);
    await openAndStart(client, keys, opening, plan);

    let worker = await spawnWorker(dbFile, children);
    const delays: number[] = [];
    const finishedAtKill: number[] = [];
    const heldAtKill: boolean[] = [];
    for (let k = 0; k < 4; k++) {
      // Kills land anywhere: in a batch of operations, between an episode and its commit, mid-section.
      const delay = 150 + Math.floor(Math.random() * 600);
      delays.push(delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await kill(worker);
      const page = await client.list({ runtimeStatus: "Completed", pageSize: 1000 });
      finishedAtKill.push(page.instances.length);
      const dead = worker;
      // Whether the kill caught the worker holding something (a lock hand-off between two
      // transfers can leave it holding nothing for an instant, so not every kill does).
      heldAtKill.push((await store.listLeaseOwners()).includes(dead.workerId));
      worker = await spawnWorker(dbFile, children);
      expect(await store.listLeaseOwners(), "a new worker frees a dead one's leases").not.toContain(dead.workerId);
    }

    const results = new Map<string, TransferResult | undefined>();
    for (const t of plan) {
      const status = await client.waitForCompletion<unknown, TransferResult>(t.transferId, { timeout: 120_000 });
      expect(status.runtimeStatus, `${t.transferId}: ${status.failure?.message}`).toBe("Completed");
      results.set(t.transferId, status.output);
    }
    const accounts = new Map<string, AccountState>();
    for (const key of keys) accounts.set(key, (await client.getEntity(account, key)).state as AccountState);
    const audit = auditBooks(accounts, opening, plan, results);
    expect(audit.problems, `kills after ${delays.join(", ")} ms`).toEqual([]);
    expect(audit.total).toBe(keys.length * opening);
    expect(audit.done + audit.rejected).toBe(plan.length);
    // The kills happened while transfers were still running, not after the work was done.
    expect(finishedAtKill[0]).toBeLessThan(plan.length);
    expect(heldAtKill, "some kill caught the worker holding leases").toContain(true);
    for (const key of keys) expect((await client.getEntity(account, key)).lockedBy).toBeUndefined();
    console.info(
      `[bank-transfer crash] ${audit.done} done, ${audit.rejected} rejected; completed at each kill: ${finishedAtKill.join(", ")}; ` +
        `leases held at each kill: ${heldAtKill.join(", ")}`,
    );
  });
});
