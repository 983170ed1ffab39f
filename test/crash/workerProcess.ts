/**
 * A worker process for the crash tests, run as
 * `node --import tsx test/crash/workerProcess.ts <dbFile> <logFile>`.
 *
 * Environment:
 * - STEP_MS: how long each activity stays in flight (default 150).
 * - START: instances to start once the worker runs, as `id=input,id=input`.
 * - LEASE_TTL_MS: the worker's lease TTL (default: the engine's). The crash tests set it
 *   far beyond their own run time, to show that a restart resumes because the new worker
 *   frees the dead worker's leases, not because they expired.
 * - SHUTDOWN_TIMEOUT_MS: how long a graceful stop waits for activities (default: the engine's).
 *
 * Prints one JSON line `{"event":"ready","workerId":…,"pid":…}` on stdout once the worker
 * runs and the requested instances are durably started. Runs until it is signalled: SIGTERM
 * and SIGINT go to the engine's own graceful shutdown.
 */
import { createClient, createWorker, silentLogger } from "../../src/index.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { crashWorkflow } from "./crashWorkflow.js";

const [dbFile, logFile] = process.argv.slice(2);
if (!dbFile || !logFile) {
  process.stderr.write("usage: workerProcess.ts <dbFile> <logFile>\n");
  process.exit(2);
}

// If the test runner dies without killing us (a crashed vitest worker), do not linger.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.kill(process.pid, "SIGKILL");
}, 500).unref();

const stepMs = Number(process.env.STEP_MS ?? 150);
const leaseTtlMs = process.env.LEASE_TTL_MS ? Number(process.env.LEASE_TTL_MS) : undefined;
const shutdownTimeoutMs = process.env.SHUTDOWN_TIMEOUT_MS ? Number(process.env.SHUTDOWN_TIMEOUT_MS) : undefined;
const { chain, steps } = crashWorkflow(logFile, stepMs);

const store = sqliteStore(dbFile, { durability: "full" });
const worker = createWorker({
  store,
  orchestrations: [chain],
  activities: steps,
  // Engine errors still reach stderr, which the test shows when it fails.
  logger: { ...silentLogger, warn: console.warn, error: console.error },
  ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
  ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
});
await worker.start();

const client = createClient({ store });
const starts = (process.env.START ?? "")
  .split(",")
  .filter((s) => s !== "")
  .map((entry) => {
    const [instanceId, input] = entry.split("=");
    return client.start(chain, Number(input), { instanceId: instanceId as string });
  });
await Promise.all(starts);

process.stdout.write(`${JSON.stringify({ event: "ready", workerId: worker.id, pid: process.pid })}\n`);
