/**
 * A worker process of the PostgreSQL fault tests, run as
 * `node --import tsx test/postgres-faults/workerProcess.ts <databaseUrl> <schema> <logFile>`
 * (the tests run it compiled by esbuild, see faultLab.ts).
 *
 * Environment:
 * - STEP_MS: how long each activity stays in flight (default 20).
 * - MAX_ACTIVITIES: the worker's maxConcurrentActivities (default 20).
 * - LEASE_TTL_MS, POLL_MS: the worker's leaseTtlMs and pollIntervalMs (default: the engine's).
 * - APP_NAME: the PostgreSQL application_name of its connections, so that a test can find
 *   and cut them.
 * - STALL_EVERY_MS, STALL_MS: every STALL_EVERY_MS, block the event loop for STALL_MS, as a
 *   long GC pause or an overloaded host would: leases may expire meanwhile.
 *
 * Prints `{"event":"ready",…}` once the worker runs. On SIGTERM it stops gracefully and
 * prints `{"event":"stats",…}`: how many of its commits the store refused as stale.
 */
import { createWorker, type Store, silentLogger } from "../../src/index.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import { faultWorkflow } from "./faultWorkflow.js";

const [url, schema, logFile] = process.argv.slice(2);
if (!url || !schema || !logFile) {
  process.stderr.write("usage: workerProcess.ts <databaseUrl> <schema> <logFile>\n");
  process.exit(2);
}

// If the test runner dies without killing us, do not linger.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.kill(process.pid, "SIGKILL");
}, 500).unref();

const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
const stepMs = env("STEP_MS") ?? 20;
const maxConcurrentActivities = env("MAX_ACTIVITIES") ?? 20;
const leaseTtlMs = env("LEASE_TTL_MS");
const pollIntervalMs = env("POLL_MS");
const stallEveryMs = env("STALL_EVERY_MS");
const stallMs = env("STALL_MS") ?? 0;

/** What the store refused: episode commits fenced out, activity results whose task lease had moved on. */
const stats = { staleCommits: 0, refusedDeliveries: 0, commitErrors: 0, episodes: 0 };

const store = await postgresStore({
  connectionString: url,
  schema,
  poolSize: 4,
  connection: { application_name: process.env.APP_NAME ?? "perdure-fault-worker" },
});

/** The store, counting the refusals that fencing makes. */
const counted = new Proxy<Store>(store, {
  get(target, property) {
    if (property === "commitEpisodes") {
      return async (...args: Parameters<Store["commitEpisodes"]>) => {
        const results = await target.commitEpisodes(...args).catch((error: unknown) => {
          stats.commitErrors += args[0].length;
          throw error;
        });
        for (const r of results) {
          if (r.ok) stats.episodes++;
          else if (r.reason === "lease-lost") stats.staleCommits++;
          else stats.commitErrors++;
        }
        return results;
      };
    }
    if (property === "deliverActivityResults") {
      return async (...args: Parameters<Store["deliverActivityResults"]>) => {
        const accepted = await target.deliverActivityResults(...args);
        stats.refusedDeliveries += accepted.filter((a) => !a).length;
        return accepted;
      };
    }
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? value.bind(target) : value;
  },
});

const { chain, steps } = faultWorkflow(logFile, stepMs);
const worker = createWorker({
  store: counted,
  orchestrations: [chain],
  activities: steps,
  // Engine errors reach stderr, which the test shows when it fails.
  logger: { ...silentLogger, warn: console.warn, error: console.error },
  handleSignals: false,
  maxConcurrentActivities,
  ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
  ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
});
await worker.start();

if (stallEveryMs !== undefined && stallMs > 0) {
  const stall = () => {
    const until = Date.now() + stallMs;
    while (Date.now() < until) {
      // Busy: timers, lease renewals and I/O callbacks all wait.
    }
  };
  // Freezes start at a fixed point of each period on the wall clock, not of this process's
  // start-up (which varies by hundreds of ms): two workers stay as far out of phase as asked.
  const phase = env("STALL_PHASE_MS") ?? 0;
  const untilPhase = stallEveryMs - ((((Date.now() - phase) % stallEveryMs) + stallEveryMs) % stallEveryMs);
  setTimeout(() => {
    stall();
    setInterval(stall, stallEveryMs).unref();
  }, untilPhase).unref();
}

process.once("SIGTERM", () => {
  void worker
    .stop()
    .then(() => store.close())
    .then(() => {
      process.stdout.write(`${JSON.stringify({ event: "stats", ...stats })}\n`);
      process.exit(0);
    });
});

process.stdout.write(`${JSON.stringify({ event: "ready", workerId: worker.id, pid: process.pid })}\n`);
