import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { adminQuery } from "../helpers/postgres.js";
import { countReruns, storeProblems, unfinishedReport } from "./faultChecks.js";
import { FaultLab, type FaultWorker, type WorkerSettings } from "./faultLab.js";
import { faultWorkflow } from "./faultWorkflow.js";

const WORKFLOWS = 800;
const WORKERS = 2;
const APP_NAME = "perdure-fault-cut";
const SETTINGS: WorkerSettings = { stepMs: 20, maxActivities: 20, pollMs: 200, appName: APP_NAME };
const DEADLINE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("PostgreSQL connection cuts", { timeout: 120_000 }, () => {
  let lab: FaultLab;
  beforeAll(async () => {
    lab = await FaultLab.create();
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  it("finishes every workflow, nothing lost, while every worker connection is terminated again and again", async () => {
    const workers: FaultWorker[] = [];
    for (let i = 0; i < WORKERS; i++) workers.push(await lab.spawnWorker(SETTINGS));
    const store = await lab.openStore();
    const client = createClient({ store });
    const { chain } = faultWorkflow(lab.logFile, 0);
    const inputs = new Map(Array.from({ length: WORKFLOWS }, (_, i) => [`cut-${i}`, i] as [string, number]));
    await Promise.all([...inputs].map(([id, input]) => client.start(chain, input, { instanceId: id })));

    const began = Date.now();
    let cuts = 0;
    let terminated = 0;
    let done = 0;
    let doneAtLastCut = -1;
    for (;;) {
      done = await lab.countCompleted();
      if (done >= WORKFLOWS || Date.now() - began >= DEADLINE_MS) break;
      // At least one workflow completes between two cuts (see the chaos test: a starved
      // machine must not turn the test into a measure of its speed).
      if (done === doneAtLastCut) {
        await sleep(100);
        continue;
      }
      doneAtLastCut = done;
      // Every connection of every worker: pool connections mid-transaction, idle ones, and listeners.
      const { rows } = await adminQuery(
        "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        [lab.db.name, APP_NAME],
      );
      cuts++;
      terminated += rows.filter((r: { ok: boolean }) => r.ok).length;
      await sleep(100 + Math.random() * 200);
    }
    const seconds = (Date.now() - began) / 1000;
    const unfinished = await unfinishedReport(lab.db, lab.schema);
    const errors = workers
      .map((w) => w.output())
      .join("\n")
      .split("\n")
      .filter((l) => l.startsWith("[perdure]"));
    const stats = [];
    for (const worker of workers) {
      expect(worker.hasExited(), `worker ${worker.pid} died:\n${worker.output()}`).toBe(false);
      stats.push(await lab.stop(worker));
    }
    expect(
      done,
      `only ${done} of ${WORKFLOWS} completed in ${DEADLINE_MS} ms; unfinished:\n${unfinished}\nworker errors:\n${[...new Set(errors.map((e) => e.replace(/instance \S+/, "instance X")))].slice(0, 20).join("\n")}`,
    ).toBe(WORKFLOWS);
    expect(await storeProblems(lab.db, lab.schema, inputs)).toEqual([]);
    const reruns = countReruns(lab.readLog(), inputs.keys());
    expect(reruns.neverRan).toEqual([]);
    expect(reruns.keyMismatches).toEqual([]);
    console.log(
      `connection cuts: ${WORKFLOWS} workflows in ${seconds.toFixed(1)} s, ${cuts} rounds of cuts terminated ` +
        `${terminated} connections; ${reruns.total} activity re-runs; commit errors seen by workers: ` +
        `${stats.map((s) => s.commitErrors).join(", ")}`,
    );
    expect(terminated).toBeGreaterThan(WORKERS);
  });
});
