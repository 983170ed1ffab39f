import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../src/index.js";
import { countReruns, startsAfterCompletion, storeProblems, unfinishedReport } from "./faultChecks.js";
import { FaultLab, type FaultWorker, type WorkerSettings } from "./faultLab.js";
import { faultWorkflow } from "./faultWorkflow.js";

const WORKFLOWS = 2_000;
const WORKERS = 4;
/** Each worker runs at most this many activities at once (the engine's default): all one kill can cost. */
const MAX_ACTIVITIES = 100;
const SETTINGS: WorkerSettings = { stepMs: 20, maxActivities: MAX_ACTIVITIES, pollMs: 200 };
/** The chaos stops and the test fails if the workflows are not all done by then. */
const DEADLINE_MS = 85_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;

describe("PostgreSQL chaos: SIGKILLed worker processes", { timeout: 120_000 }, () => {
  let lab: FaultLab;
  beforeAll(async () => {
    lab = await FaultLab.create();
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  it(`completes ${WORKFLOWS} three-step workflows while a random worker of ${WORKERS} is killed every few hundred ms`, async () => {
    const alive = new Set<FaultWorker>(
      await Promise.all(Array.from({ length: WORKERS }, () => lab.spawnWorker(SETTINGS))),
    );
    const store = await lab.openStore();
    const client = createClient({ store });
    const { chain } = faultWorkflow(lab.logFile, 0);
    const inputs = new Map(Array.from({ length: WORKFLOWS }, (_, i) => [`chaos-${i}`, i] as [string, number]));
    await Promise.all([...inputs].map(([id, input]) => client.start(chain, input, { instanceId: id })));

    const began = Date.now();
    const killed: string[] = [];
    const spawning: Promise<void>[] = [];
    const spawnFailures: unknown[] = [];
    let done = 0;
    let doneAtLastKill = -1;
    for (;;) {
      done = await lab.countCompleted();
      if (done >= WORKFLOWS || Date.now() - began >= DEADLINE_MS) break;
      await sleep(250 + Math.random() * 300);
      // Keep at least one worker running between kills, and let at least one workflow complete
      // between two kills: on a starved machine (the whole suite runs two files at a time) a
      // worker's batch of first episodes can take longer than the interval, and killing every
      // worker before it commits anything would only measure the machine.
      if (alive.size < 2 || done === doneAtLastKill) continue;
      doneAtLastKill = done;
      const victim = pick([...alive]);
      alive.delete(victim);
      await lab.kill(victim);
      killed.push(victim.tag);
      spawning.push(
        lab.spawnWorker(SETTINGS).then(
          (worker) => void alive.add(worker),
          (error: unknown) => void spawnFailures.push(error),
        ),
      );
    }
    const seconds = (Date.now() - began) / 1000;
    await Promise.all(spawning);
    expect(spawnFailures).toEqual([]);
    const unfinished = done < WORKFLOWS ? await unfinishedReport(lab.db, lab.schema) : "";
    const errors = [...alive].flatMap((w) =>
      w
        .output()
        .split("\n")
        .filter((l) => l.startsWith("[perdure]")),
    );
    expect(
      done,
      `only ${done} of ${WORKFLOWS} completed in ${DEADLINE_MS} ms, ${killed.length} kills; unfinished:\n${unfinished}\n` +
        `errors of the live workers:\n${[...new Set(errors.map((e) => e.replace(/instance \S+/, "instance X")))].slice(0, 10).join("\n")}`,
    ).toBe(WORKFLOWS);

    expect(await storeProblems(lab.db, lab.schema, inputs)).toEqual([]);
    const log = lab.readLog();
    const reruns = countReruns(log, inputs.keys());
    expect(reruns.neverRan).toEqual([]);
    expect(reruns.keyMismatches).toEqual([]);
    // A completed step never runs again: every start of a step came before its result was recorded.
    expect(await startsAfterCompletion(lab.db, lab.schema, log)).toEqual([]);
    const killedSet = new Set(killed);
    const perKill = killed.map((tag) => reruns.byPreviousProcess.get(tag) ?? 0);
    // What each killed process had started and not finished when it died: surely lost.
    const unfinishedAtKill = killed.map(
      (tag) =>
        log.filter((l) => l.p === tag && l.e === "s").length - log.filter((l) => l.p === tag && l.e === "e").length,
    );
    const notKilled = [...reruns.byPreviousProcess].filter(([tag]) => !killedSet.has(tag));
    console.log(
      `chaos: ${WORKFLOWS} workflows in ${seconds.toFixed(1)} s, ${killed.length} kills, ` +
        `${reruns.starts} activity starts for ${WORKFLOWS * 3} steps, ${reruns.total} re-runs ` +
        `(bound ${killed.length} kills × ${MAX_ACTIVITIES} = ${killed.length * MAX_ACTIVITIES}); ` +
        `re-runs per kill: max ${Math.max(0, ...perKill)}, mean ${(reruns.total / Math.max(1, killed.length)).toFixed(1)}; ` +
        `activities started and unfinished in a killed process: max ${Math.max(0, ...unfinishedAtKill)}`,
    );
    expect(killed.length).toBeGreaterThan(0);
    // Kills cost only what was in flight in the killed processes, at most their limit each.
    expect(reruns.total).toBeLessThanOrEqual(killed.length * MAX_ACTIVITIES);
    // Nothing that a live process ran was ever run again.
    expect(notKilled).toEqual([]);
  });
});
