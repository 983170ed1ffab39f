// Entry point of `npm run bench`: runs every scenario for each durability, prints the
// tables and the targets, and writes BENCHMARKS.md (not in BENCH_QUICK mode, unless
// BENCH_OUT names a file).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { benchConfig, type Durability } from "./config.js";
import { machineFacts } from "./machine.js";
import { RssSampler } from "./memory.js";
import { benchmarksMarkdown, resultsTable, targetLines } from "./report.js";
import { type Measurement, type ScenarioResult, scenarioLabel } from "./result.js";
import { engineSequential } from "./scenarios/engineSequential.js";
import { engineThroughput } from "./scenarios/engineThroughput.js";
import { plainCalls } from "./scenarios/plainCalls.js";
import { rawSqlite } from "./scenarios/rawSqlite.js";
import { summarize } from "./summary.js";
import { checkTargets } from "./targets.js";

const config = benchConfig();
const machine = machineFacts();
const collectGarbage = exposeGc();

/** The scenarios of one durability, as thunks so each round can run them in its own order. */
function scenarios(durability: Durability): (() => Promise<Measurement>)[] {
  const all: [string, () => Promise<Measurement>][] = [
    [scenarioLabel({ kind: "plain", inFlight: 1 }), () => plainCalls(durability, config)],
    [scenarioLabel({ kind: "raw-sqlite", inFlight: 1 }), () => rawSqlite(durability, config)],
    [scenarioLabel({ kind: "engine-sequential", inFlight: 1 }), () => engineSequential(durability, config)],
    ...config.inFlight.map((n): [string, () => Promise<Measurement>] => [
      scenarioLabel({ kind: "engine-throughput", inFlight: n }),
      () => engineThroughput(durability, n, config),
    ]),
  ];
  // BENCH_ONLY (a part of a scenario's label) runs a subset, e.g. under a profiler.
  const only = process.env.BENCH_ONLY;
  return all.filter(([label]) => !only || label.includes(only)).map(([, run]) => run);
}

async function measure(run: () => Promise<Measurement>, round: number): Promise<ScenarioResult> {
  // Start each scenario from a collected heap so its peak RSS owes less to the previous one.
  collectGarbage();
  const rss = new RssSampler();
  let measured: Measurement;
  let peakRssMiB: number;
  try {
    measured = await run();
  } finally {
    peakRssMiB = rss.stop();
  }
  return { ...measured, peakRssMiB, round };
}

async function main(): Promise<void> {
  const began = performance.now();
  log(
    `perdure bench${config.quick ? " (quick)" : ""}: ${config.rounds} round(s), node ${machine.node}, ${machine.cores} cores`,
  );
  const results: ScenarioResult[] = [];
  for (let round = 0; round < config.rounds; round++) {
    for (const durability of config.durabilities) {
      const jobs = scenarios(durability);
      // Rotate the order each round: no scenario always runs first, or always after the engine.
      const rotated = [...jobs.slice(round % jobs.length), ...jobs.slice(0, round % jobs.length)];
      for (const job of rotated) {
        const result = await measure(job, round + 1);
        results.push(result);
        log(
          `  round ${round + 1} ${durability.padEnd(6)} ${scenarioLabel(result).padEnd(26)} ` +
            `${result.workflowsPerSecond.toFixed(0).padStart(8)} wf/s  median ${result.latencyMs.median.toFixed(3)} ms`,
        );
      }
    }
  }
  const totalSeconds = (performance.now() - began) / 1000;

  const tables = config.durabilities.map((durability) => ({ durability, rows: summarize(results, durability) }));
  const checks = tables.flatMap((t) => checkTargets(t.durability, t.rows));
  for (const t of tables) {
    console.log(`\ndurability "${t.durability}" (median of ${config.rounds} round(s))\n`);
    console.log(resultsTable(t.rows));
  }
  console.log(`\n${targetLines(checks).join("\n")}\n`);

  const out =
    process.env.BENCH_OUT ??
    (config.quick ? undefined : fileURLToPath(new URL("../../BENCHMARKS.md", import.meta.url)));
  if (out) {
    writeFileSync(out, benchmarksMarkdown({ machine, config, tables, checks, totalSeconds }));
    log(`wrote ${out}`);
  }
  log(`done in ${totalSeconds.toFixed(0)} s`);
}

/** `global.gc` without asking the user for `node --expose-gc`. */
function exposeGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
