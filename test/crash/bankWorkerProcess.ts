/**
 * A worker process of the bank-transfer crash test, run as
 * `node --import tsx test/crash/bankWorkerProcess.ts <dbFile>`: the example's transfer
 * orchestration and account entities, with a lease far longer than the test (a restart
 * resumes because the new worker frees the dead one's leases, not because they expired).
 * Prints `{"event":"ready",…}` once running; runs until killed.
 */

import { account } from "../../examples/bank-transfer/account.js";
import { transfer } from "../../examples/bank-transfer/transfer.js";
import { createWorker, silentLogger } from "../../src/index.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";

const [dbFile] = process.argv.slice(2);
if (!dbFile) {
  process.stderr.write("usage: bankWorkerProcess.ts <dbFile>\n");
  process.exit(2);
}

// If the test runner dies without killing us, do not linger.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.kill(process.pid, "SIGKILL");
}, 500).unref();

const worker = createWorker({
  store: sqliteStore(dbFile, { durability: "full" }),
  orchestrations: [transfer],
  activities: [],
  entities: [account],
  logger: { ...silentLogger, warn: console.warn, error: console.error },
  leaseTtlMs: 600_000,
  pollIntervalMs: 50,
});
await worker.start();
process.stdout.write(`${JSON.stringify({ event: "ready", workerId: worker.id, pid: process.pid })}\n`);
