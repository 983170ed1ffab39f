import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { countReruns, historyDump, storeProblems, unfinishedReport } from "./faultChecks.js";
import { FaultLab, type FaultWorker, type WorkerSettings } from "./faultLab.js";
import { faultWorkflow } from "./faultWorkflow.js";

/**
 * Enough work (600 chains of 50 ms steps: ~6-7 s here) for several freeze periods: with 300
 * chains of 30 ms the run took 2 s on a faster machine, and a run in which no freeze caught a
 * worker holding leases saw no race at all (0 stale commits: the last check failed).
 */
const WORKFLOWS = 600;
/**
 * A lease of 300 ms, and workers that freeze their event loop for 600 ms every 900 ms (a
 * long GC pause, an overloaded host): every freeze outlasts the frozen worker's leases, so
 * the other worker takes its instances and tasks over, and the frozen one wakes up holding
 * stale tokens and results that someone else may already have recorded. The two freeze out
 * of phase (at 0 and 450 ms of each period on the wall clock): each is awake for 300 ms while
 * the other is frozen, and the other's leases end 150-250 ms into that window.
 */
const SETTINGS: WorkerSettings = {
  stepMs: 50,
  maxActivities: 20,
  leaseTtlMs: 300,
  pollMs: 100,
  stallEveryMs: 900,
  stallMs: 600,
};
const DEADLINE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("PostgreSQL lease races: two workers fighting over the same instances", { timeout: 120_000 }, () => {
  let lab: FaultLab;
  beforeAll(async () => {
    lab = await FaultLab.create();
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  it("never lets both advance one instance: contiguous history, every step once, stale commits refused", async () => {
    const a: FaultWorker = await lab.spawnWorker({ ...SETTINGS, stallPhaseMs: 0 });
    const b: FaultWorker = await lab.spawnWorker({ ...SETTINGS, stallPhaseMs: 450 });
    const store = await lab.openStore();
    const client = createClient({ store });
    const { chain } = faultWorkflow(lab.logFile, 0);
    const inputs = new Map(Array.from({ length: WORKFLOWS }, (_, i) => [`race-${i}`, i] as [string, number]));
    await Promise.all([...inputs].map(([id, input]) => client.start(chain, input, { instanceId: id })));

    const began = Date.now();
    let done = 0;
    for (;;) {
      done = await lab.countCompleted();
      if (done >= WORKFLOWS || Date.now() - began >= DEADLINE_MS) break;
      await sleep(200);
    }
    const seconds = (Date.now() - began) / 1000;
    const unfinished = await unfinishedReport(lab.db, lab.schema);
    for (const w of [a, b]) expect(w.hasExited(), `worker ${w.pid} died:\n${w.output()}`).toBe(false);
    const stats = [await lab.stop(a), await lab.stop(b)];
    expect(done, `only ${done} of ${WORKFLOWS} completed; unfinished:\n${unfinished}`).toBe(WORKFLOWS);

    const problems = await storeProblems(lab.db, lab.schema, inputs);
    const suspects = [...new Set(problems.map((p) => p.split(":")[0] as string))].slice(0, 3);
    expect(problems, await historyDump(lab.db, lab.schema, suspects)).toEqual([]);
    const reruns = countReruns(lab.readLog(), inputs.keys());
    expect(reruns.neverRan).toEqual([]);
    expect(reruns.keyMismatches).toEqual([]);
    const stale = stats.reduce((n, s) => n + s.staleCommits, 0);
    const refused = stats.reduce((n, s) => n + s.refusedDeliveries, 0);
    console.log(
      `lease races: ${WORKFLOWS} workflows in ${seconds.toFixed(1)} s; episode commits refused for a stale lease: ` +
        `${stats.map((s) => s.staleCommits).join(" + ")} = ${stale}; activity results refused (task lease moved on): ` +
        `${refused}; episodes committed ${stats.map((s) => s.episodes).join(" + ")}; activity re-runs ${reruns.total}`,
    );
    // The freezes did make the workers race: the store refused commits with stale tokens.
    expect(stale + refused).toBeGreaterThan(0);
  });
});
