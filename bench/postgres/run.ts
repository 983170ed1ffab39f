// Entry point of `npm run bench:postgres`: Perdure (embedded, and with 1, 2 and 4 worker
// processes), DBOS Transact and the raw `pg` baseline, on one fresh database of the local
// PostgreSQL, in rotating order per round. Prints the table and the targets and writes the
// PostgreSQL section of BENCHMARKS.md (not in BENCH_QUICK mode, unless BENCH_OUT names a file).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { machineFacts } from "../machine.js";
import { summarize } from "../stats.js";
import { pgBenchConfig } from "./config.js";
import { createBenchDatabase, perWorkflow, postgresCpuMs, serverFacts, settledCounters } from "./database.js";
import { dbosTarget, ensurePeersInstalled } from "./dbos.js";
import { explain } from "./explain.js";
import { perdureTarget } from "./perdure.js";
import { rawPgTarget } from "./rawPg.js";
import { checkPgTargets, pgSection, pgTable, pgTargetLines, summarizePg, writePgSection } from "./report.js";
import { engineLabel, type PgEngine, type PgResult, scenarioLabel } from "./result.js";
import type { Target } from "./target.js";

const config = pgBenchConfig();
const machine = machineFacts();

/** The repository root: the nearest folder up from here with a package.json (src or dist alike). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || dir.endsWith(join("bench", "peers"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root");
    dir = parent;
  }
  return dir;
}

async function main(): Promise<void> {
  const began = performance.now();
  const root = repoRoot();
  // BENCH_REPORT_FROM=results.json rebuilds the report from a saved run without measuring.
  const saved = process.env.BENCH_REPORT_FROM;
  if (saved) {
    const run = JSON.parse(readFileSync(saved, "utf8")) as SavedRun;
    report(run, root);
    return;
  }
  const peers = ensurePeersInstalled(root);
  const db = await createBenchDatabase();
  log(`perdure bench:postgres${config.quick ? " (quick)" : ""}: ${config.rounds} round(s) on ${db.name}`);
  const results: PgResult[] = [];
  try {
    const server = await serverFacts(db.url);
    const engines: PgEngine[] = [
      { kind: "raw" },
      ...config.workers.map((workers): PgEngine => ({ kind: "perdure", workers })),
      { kind: "dbos" },
    ];
    for (let round = 0; round < config.rounds; round++) {
      const rotated = [...engines.slice(round % engines.length), ...engines.slice(0, round % engines.length)];
      for (const engine of rotated) {
        const target = await open(engine, db.url, peers, round);
        try {
          for (const inFlight of [1, ...config.inFlight]) {
            const result = await measure(engine, target, inFlight, db);
            results.push(result);
            log(
              `  round ${round + 1} ${scenarioLabel(result).padEnd(48)} ${result.workflowsPerSecond.toFixed(0).padStart(6)} wf/s` +
                `  median ${result.latencyMs.median.toFixed(2)} ms  p99 ${result.latencyMs.p99.toFixed(2)} ms` +
                `  write txns/wf ${result.server.writeXacts.toFixed(2)}`,
            );
          }
        } finally {
          await target.close();
        }
      }
    }
    const run: SavedRun = { machine, server, config, results, totalSeconds: (performance.now() - began) / 1000 };
    // Every round's figures, so that the report can be rebuilt (BENCH_REPORT_FROM) or studied.
    const json = process.env.BENCH_RESULTS_JSON;
    if (json) writeFileSync(json, JSON.stringify(run, null, 1));
    report(run, root);
    log(`done in ${run.totalSeconds.toFixed(0)} s`);
  } finally {
    await db.drop();
  }
}

/** What a run measured, as saved with BENCH_RESULTS_JSON. */
interface SavedRun {
  machine: typeof machine;
  server: Record<string, string>;
  config: typeof config;
  results: PgResult[];
  totalSeconds: number;
}

/** Prints the table, the targets and the notes, and writes BENCHMARKS.md's PostgreSQL section. */
function report(run: SavedRun, root: string): void {
  const rows = summarizePg(run.results);
  const checks = checkPgTargets(rows);
  console.log(`\nPostgreSQL (median of ${run.config.rounds} round(s))\n`);
  console.log(pgTable(rows));
  console.log(`\n${pgTargetLines(checks).join("\n")}\n`);
  const notes = explain(rows);
  for (const note of notes) console.log(`- ${note}\n`);
  const out = process.env.BENCH_OUT ?? (run.config.quick ? undefined : join(root, "BENCHMARKS.md"));
  if (out) {
    writePgSection(out, pgSection({ ...run, rows, checks, notes }));
    log(`wrote the PostgreSQL section of ${out}`);
  }
}

async function open(engine: PgEngine, url: string, peers: string, round: number): Promise<Target> {
  switch (engine.kind) {
    case "raw":
      return rawPgTarget(url, `raw_${round}`);
    case "dbos":
      return dbosTarget(peers, url);
    case "perdure":
      return perdureTarget(url, `perdure_w${engine.workers}_r${round}`, engine.workers);
  }
}

/** Warms up, then measures one scenario, reading the server's counters around it. */
async function measure(
  engine: PgEngine,
  target: Target,
  inFlight: number,
  db: { url: string; name: string },
): Promise<PgResult> {
  const sequential = inFlight === 1;
  const total = sequential ? config.sequential : config.throughputTotal;
  // Distinct inputs per scenario, so that every workflow is new work.
  const base = inFlight * 1_000_000;
  await target.drive(inFlight, sequential ? config.warmup : config.throughputWarmup, base);
  const before = await settledCounters(db.url, db.name);
  const commitsBefore = await target.engineStats?.();
  const cpuBefore = { own: process.cpuUsage(), children: (await target.childCpuMs?.()) ?? 0, pg: postgresCpuMs() };
  const driven = await target.drive(inFlight, total, base + 100_000);
  const ownCpu = process.cpuUsage(cpuBefore.own);
  const cpuAfter = { children: (await target.childCpuMs?.()) ?? 0, pg: postgresCpuMs() };
  const commitsAfter = await target.engineStats?.();
  const after = await settledCounters(db.url, db.name);
  const result: PgResult = {
    engine,
    inFlight,
    workflows: total,
    seconds: driven.seconds,
    workflowsPerSecond: total / driven.seconds,
    latencyMs: summarize(driven.latencies),
    server: perWorkflow(before, after, total),
    cpuMs: {
      engine: ((ownCpu.user + ownCpu.system) / 1000 + cpuAfter.children - cpuBefore.children) / total,
      postgres: (cpuAfter.pg - cpuBefore.pg) / total,
    },
  };
  if (commitsBefore && commitsAfter) {
    result.storeCommits = {
      client: (commitsAfter.client - commitsBefore.client) / total,
      worker: (commitsAfter.worker - commitsBefore.worker) / total,
      stale: (commitsAfter.stale - commitsBefore.stale) / total,
    };
  }
  if (driven.latencies.length !== total)
    throw new Error(`${engineLabel(engine)}: ${driven.latencies.length} of ${total} ran`);
  return result;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
