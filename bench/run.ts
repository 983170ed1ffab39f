// Entry point of `npm run bench`: the 3-activity chain for each durability and the fan-out,
// round by round; then the listing of a large store, the durable entities and (in a child
// process) PostgreSQL. Prints every table and writes BENCHMARKS.md — not in BENCH_QUICK
// mode, nor when BENCH_ONLY or BENCH_DURABILITY pick a subset, unless BENCH_OUT names a file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchConfig, type Durability } from "./config.js";
import { entitiesBenchConfig, entitiesSection, entitiesTable, runEntitiesBench } from "./entities/bench.js";
import { fanOutSection, fanOutTable, summarizeFanOut } from "./fanOut/report.js";
import { engineFanOut, type FanOutResult, plainFanOutRound } from "./fanOut/scenario.js";
import { exposeGc } from "./gc.js";
import { listBench } from "./list/measure.js";
import { listSection, listTable } from "./list/report.js";
import { machineFacts } from "./machine.js";
import { RssSampler } from "./memory.js";
import { keepPgSection } from "./postgres/report.js";
import { runPostgresBench } from "./postgresStep.js";
import { benchmarksMarkdown, resultsTable, targetLines } from "./report.js";
import { type Measurement, type ScenarioResult, scenarioLabel } from "./result.js";
import { enginePagesPerCommit, engineSequential } from "./scenarios/engineSequential.js";
import { engineThroughput } from "./scenarios/engineThroughput.js";
import { plainCalls } from "./scenarios/plainCalls.js";
import { rawSqlite } from "./scenarios/rawSqlite.js";
import { summarize } from "./summary.js";
import { checkTargets } from "./targets.js";

const config = benchConfig();
const machine = machineFacts();
const collectGarbage = exposeGc();
// BENCH_ONLY (parts of scenario labels, comma-separated, or "fan-out", "list", "entities",
// "postgres") runs a subset, e.g. "raw,engine" under a profiler.
const only = process.env.BENCH_ONLY;
const selected = (label: string): boolean => !only || only.split(",").some((part) => label.includes(part));

/** The scenarios of one durability, as thunks so each round can run them in its own order. */
function scenarios(durability: Durability, enginePages: number): (() => Promise<Measurement>)[] {
  const all: [string, () => Promise<Measurement>][] = [
    [scenarioLabel({ kind: "plain", inFlight: 1 }), () => plainCalls(durability, config)],
    [scenarioLabel({ kind: "raw-sqlite", inFlight: 1 }), () => rawSqlite(durability, config)],
    [
      scenarioLabel({ kind: "raw-sqlite-paged", inFlight: 1 }),
      () => rawSqlite(durability, config, Math.max(2, Math.round(enginePages))),
    ],
    [scenarioLabel({ kind: "engine-sequential", inFlight: 1 }), () => engineSequential(durability, config)],
    ...config.inFlight.map((n): [string, () => Promise<Measurement>] => [
      scenarioLabel({ kind: "engine-throughput", inFlight: n }),
      () => engineThroughput(durability, n, config),
    ]),
  ];
  return all.filter(([label]) => selected(label)).map(([, run]) => run);
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

/** The chain scenarios of one round, each durability in a rotated order. */
async function chainRound(round: number, results: ScenarioResult[], enginePages: number): Promise<void> {
  for (const durability of config.durabilities) {
    const jobs = scenarios(durability, enginePages);
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

/** The fan-out of one round: the engine and the plain calls, which first alternating by round. */
async function fanOutRound(round: number, results: FanOutResult[]): Promise<void> {
  const jobs = [
    () => engineFanOut(config, round + 1, collectGarbage),
    () => plainFanOutRound(config, round + 1, collectGarbage),
  ];
  for (const job of round % 2 === 0 ? jobs : [...jobs].reverse()) {
    const r = await job();
    results.push(r);
    log(
      `  round ${round + 1} fan-out ${r.kind.padEnd(6)} ${r.wallMs.toFixed(2).padStart(9)} ms  ` +
        `peak RSS ${r.memory.peakRssMiB.toFixed(0)} MiB, heapUsed ${r.memory.peakHeapUsedMiB.toFixed(1)} MiB` +
        (r.commits === undefined ? "" : `, ${r.commits} commits`),
    );
  }
}

async function main(): Promise<void> {
  const began = performance.now();
  log(
    `perdure bench${config.quick ? " (quick)" : ""}: ${config.rounds} round(s), node ${machine.node}, ${machine.cores} cores`,
  );
  const results: ScenarioResult[] = [];
  const fanOuts: FanOutResult[] = [];
  // The raw baseline "of engine size" writes as many pages per transaction as an engine commit.
  const enginePages = selected(scenarioLabel({ kind: "raw-sqlite-paged", inFlight: 1 }))
    ? await enginePagesPerCommit(config)
    : 1;
  for (let round = 0; round < config.rounds; round++) {
    await chainRound(round, results, enginePages);
    if (selected("fan-out")) await fanOutRound(round, fanOuts);
  }
  const sections: string[] = [];

  const tables = config.durabilities.map((durability) => ({ durability, rows: summarize(results, durability) }));
  const checks = tables.flatMap((t) => checkTargets(t.durability, t.rows));
  if (results.length > 0) {
    for (const t of tables) {
      console.log(`\ndurability "${t.durability}" (median of ${config.rounds} round(s))\n`);
      console.log(resultsTable(t.rows));
    }
    console.log(`\n${targetLines(checks).join("\n")}\n`);
  }

  if (fanOuts.length > 0) {
    const rows = summarizeFanOut(fanOuts);
    console.log(`\nfan-out of ${config.fanOut} activities (median of ${config.rounds} round(s))\n`);
    console.log(fanOutTable(rows));
    sections.push(fanOutSection(rows, config));
  }

  if (selected("list")) {
    log(`list: ${config.listInstances} instances`);
    const list = await listBench(config, log);
    console.log(`\nclient.list over ${config.listInstances} instances (ms, median / p99)\n`);
    console.log(listTable(list));
    sections.push(listSection(list));
  }

  if (selected("entities")) {
    const entitiesConfig = entitiesBenchConfig(config.quick);
    log(`entities: ${entitiesConfig.rounds} round(s)`);
    const rows = await runEntitiesBench(entitiesConfig, log);
    console.log(`\nentities\n\n${entitiesTable(rows)}\n`);
    sections.push(entitiesSection(rows, entitiesConfig, "## Entities"));
  }
  const totalSeconds = (performance.now() - began) / 1000;

  const subset = only !== undefined || process.env.BENCH_DURABILITY !== undefined;
  const out =
    process.env.BENCH_OUT ??
    (config.quick || subset ? undefined : fileURLToPath(new URL("../../BENCHMARKS.md", import.meta.url)));
  if (selected("postgres")) {
    // It writes its own section of `out`; the file is regenerated around that section below.
    const postgres = await runPostgresBench(out, log);
    if (postgres.note) {
      log(`postgres: ${postgres.note}`);
      if (postgres.note.startsWith("failed")) process.exitCode = 1;
      sections.push(
        `**PostgreSQL was not measured in this run** (${postgres.note}). The PostgreSQL section below, if any, is from an earlier run: see its date.\n`,
      );
    }
  }

  if (out) {
    const fresh = benchmarksMarkdown({ machine, config, tables, checks, totalSeconds, sections });
    // Keep the PostgreSQL section that its benchmark wrote (just now, or in an earlier run).
    writeFileSync(out, keepPgSection(existsSync(out) ? readFileSync(out, "utf8") : "", fresh));
    log(`wrote ${out}`);
  }
  log(`done in ${((performance.now() - began) / 1000).toFixed(0)} s`);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
