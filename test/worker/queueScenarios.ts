import { afterEach, describe, expect, it } from "vitest";
import {
  activity,
  type Client,
  createWorker,
  orchestration,
  type Store,
  silentLogger,
  type Worker,
  type WorkerOptions,
} from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";

/** A database shared by several workers, each on a store object of its own, as in separate processes. */
export interface QueueEnv {
  /** Opens another store object on the same database; closed by `dispose`. */
  openStore(): Promise<Store>;
  client: Client;
  dispose(): Promise<void>;
}

/** Who ran what: activities and orchestrations of the scenarios write here. */
interface Log {
  runs: string[];
  running: number;
  maxRunning: number;
}

const newLog = (): Log => ({ runs: [], running: 0, maxRunning: 0 });
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The same activity ("render", on queue "gpu") as registered by the worker named `by`. */
function render(by: string, log: Log) {
  return activity(
    "render",
    async (n: number) => {
      log.runs.push(by);
      log.running++;
      log.maxRunning = Math.max(log.maxRunning, log.running);
      try {
        // Long enough for other claims to overlap it, if the limit let them.
        await pause(20);
        return n * 10;
      } finally {
        log.running--;
      }
    },
    { queue: "gpu" },
  );
}

/** A fan-out over "render", on queue "web". */
const fanOut = (log: Log, by: string) =>
  orchestration(
    "fanOut",
    async (ctx, n: number) => {
      if (!ctx.isReplaying) log.runs.push(`orchestration@${by}`);
      const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(render(by, log), i)));
      return results.reduce((sum, x) => sum + x, 0);
    },
    { queue: "web" },
  );

/** An orchestration on queue "gpu" that must never run on a worker not serving it. */
const child = (by: string) =>
  orchestration(
    "child",
    async (_ctx, n: number) => {
      if (by !== "gpu-worker") throw new Error(`child ran on ${by}`);
      return n + 1;
    },
    { queue: "gpu" },
  );

const parent = (by: string) =>
  orchestration(
    "parent",
    async (ctx, n: number) => {
      if (by !== "web-worker") throw new Error(`parent ran on ${by}`);
      return ctx.callSubOrchestration(child(by), n);
    },
    { queue: "web" },
  );

/** The engine-level queue scenarios, on one backend. */
export function queueScenarios(name: string, makeEnv: () => Promise<QueueEnv>): void {
  describe(`task queues and limits: ${name}`, () => {
    let env: QueueEnv | undefined;
    const workers: Worker[] = [];
    afterEach(async () => {
      for (const worker of workers.splice(0).reverse()) await worker.stop();
      await env?.dispose();
      env = undefined;
    });

    async function startWorker(options: Partial<WorkerOptions>): Promise<Worker> {
      if (!env) throw new Error("no environment");
      const worker = createWorker({
        store: await env.openStore(),
        orchestrations: [],
        activities: [],
        logger: silentLogger,
        handleSignals: false,
        pollIntervalMs: 10,
        shutdownTimeoutMs: 2_000,
        ...options,
      });
      workers.push(worker);
      await worker.start();
      return worker;
    }

    it("routes an orchestration on one queue and its activities on another to the workers serving each", async () => {
      env = await makeEnv();
      const log = newLog();
      // Both workers could run both definitions; each serves one queue only.
      const web = await startWorker({
        queues: ["web"],
        orchestrations: [fanOut(log, "web-worker")],
        activities: [render("web-worker", log)],
      });
      expect(web.queues).toEqual(["web"]);
      const id = await env.client.start(fanOut(log, "client"), 6);
      // Scheduled, but nobody serves "gpu" yet: the tasks wait for such a worker.
      await waitFor(
        async () => (await env?.client.getHistory(id))?.some((e) => e.type === "TaskScheduled"),
        "the activities to be scheduled",
      );
      const waiting = await env.client.getStatus(id);
      expect(waiting?.runtimeStatus).toBe("Running");
      expect(log.runs.filter((r) => !r.startsWith("orchestration"))).toEqual([]);

      await startWorker({
        queues: ["gpu"],
        orchestrations: [fanOut(log, "gpu-worker")],
        activities: [render("gpu-worker", log)],
      });
      const status = await env.client.waitForCompletion(id, { timeout: 30_000 });
      expect(status).toMatchObject({ runtimeStatus: "Completed", output: 150 });
      const activityRuns = log.runs.filter((r) => !r.startsWith("orchestration"));
      expect(activityRuns).toEqual(Array(6).fill("gpu-worker"));
      expect(new Set(log.runs.filter((r) => r.startsWith("orchestration")))).toEqual(
        new Set(["orchestration@web-worker"]),
      );
      const scheduled = (await env.client.getHistory(id)).filter((e) => e.type === "TaskScheduled");
      expect(scheduled.map((e) => e.type === "TaskScheduled" && e.queue)).toEqual(Array(6).fill("gpu"));
    });

    it("starts a sub-orchestration on its own queue, run by the worker serving it", async () => {
      env = await makeEnv();
      await startWorker({ orchestrations: [parent("web-worker")] });
      await startWorker({ orchestrations: [child("gpu-worker")] });
      const id = await env.client.start(parent("client"), 41);
      const status = await env.client.waitForCompletion(id, { timeout: 30_000 });
      expect(status).toMatchObject({ runtimeStatus: "Completed", output: 42 });
    });

    it("a queue's concurrency limit holds across two workers", async () => {
      env = await makeEnv();
      const log = newLog();
      const limits = { gpu: { concurrency: 2 } };
      for (const by of ["one", "two"]) {
        await startWorker({
          orchestrations: [fanOut(log, by)],
          activities: [render(by, log)],
          queueLimits: limits,
        });
      }
      const id = await env.client.start(fanOut(log, "client"), 12);
      const status = await env.client.waitForCompletion(id, { timeout: 60_000 });
      expect(status).toMatchObject({ runtimeStatus: "Completed", output: 660 });
      const activityRuns = log.runs.filter((r) => !r.startsWith("orchestration"));
      expect(activityRuns).toHaveLength(12);
      expect(log.maxRunning).toBeGreaterThan(0);
      expect(log.maxRunning).toBeLessThanOrEqual(2);
      expect(await (await env.openStore()).listQueues()).toEqual([{ name: "gpu", concurrency: 2 }]);
    });
  });
}
