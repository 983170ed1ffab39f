import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { MachineFacts } from "../machine.js";
import { medianBy } from "../stats.js";
import { markdownTable } from "../table.js";
import type { PgBenchConfig } from "./config.js";
import { engineLabel, type PgEngine, type PgResult, scenarioLabel } from "./result.js";

/** One scenario over its rounds, and the round reported (the median one). */
export interface PgReported {
  median: PgResult;
  rounds: PgResult[];
  range: [number, number];
}

/** Median latency picks the sequential scenarios' round; throughput the others'. */
const headline = (r: PgResult): number => (r.inFlight === 1 ? r.latencyMs.median : r.workflowsPerSecond);

const engineOrder = (e: PgEngine): number => (e.kind === "raw" ? 0 : e.kind === "perdure" ? 1 + e.workers : 100);

export function summarizePg(results: readonly PgResult[]): PgReported[] {
  const groups = new Map<string, PgResult[]>();
  for (const r of results) groups.set(scenarioLabel(r), [...(groups.get(scenarioLabel(r)) ?? []), r]);
  return [...groups.values()]
    .map((rounds) => {
      const values = rounds.map(headline);
      return {
        median: medianBy(rounds, headline),
        rounds,
        range: [Math.min(...values), Math.max(...values)] as [number, number],
      };
    })
    .sort(
      (a, b) => engineOrder(a.median.engine) - engineOrder(b.median.engine) || a.median.inFlight - b.median.inFlight,
    );
}

export function pgTable(rows: readonly PgReported[]): string {
  const headers = [
    "engine",
    "in flight",
    "workflows/s",
    "median ms",
    "p99 ms",
    "rounds' range",
    "store commits/wf (client + worker)",
    "stale episodes/wf",
    "CPU ms/wf (engine + PostgreSQL)",
    "write txns/wf",
    "xact_commit/wf",
    "WAL fsyncs/wf",
    "WAL KiB/wf",
  ];
  const body = rows.map(({ median: r, range }) => [
    engineLabel(r.engine),
    r.inFlight === 1 ? "1 (sequential)" : String(r.inFlight),
    fixed(r.workflowsPerSecond, r.workflowsPerSecond < 100 ? 1 : 0),
    ms(r.latencyMs.median),
    ms(r.latencyMs.p99),
    r.inFlight === 1 ? `${ms(range[0])}–${ms(range[1])} ms` : `${fixed(range[0], 0)}–${fixed(range[1], 0)} wf/s`,
    r.storeCommits ? `${fixed(r.storeCommits.client, 2)} + ${fixed(r.storeCommits.worker, 2)}` : "–",
    r.storeCommits ? fixed(r.storeCommits.stale, 2) : "–",
    `${fixed(r.cpuMs.engine, 2)} + ${fixed(r.cpuMs.postgres, 2)}`,
    fixed(r.server.writeXacts, 2),
    fixed(r.server.xactCommit, 1),
    fixed(r.server.walSyncs, 2),
    fixed(r.server.walBytes / 1024, 1),
  ]);
  return markdownTable(headers, body, [false, ...headers.slice(1).map(() => true)]);
}

export interface PgTargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

/** The issue's targets; a missing scenario fails its target. */
export function checkPgTargets(rows: readonly PgReported[]): PgTargetCheck[] {
  const find = (engine: PgEngine, inFlight: number) =>
    rows.find((r) => r.median.inFlight === inFlight && engineLabel(r.median.engine) === engineLabel(engine))?.median;
  const dbos = { kind: "dbos" } as const;
  const embedded = { kind: "perdure", workers: 0 } as const;
  const one = { kind: "perdure", workers: 1 } as const;
  const four = { kind: "perdure", workers: 4 } as const;
  const checks: PgTargetCheck[] = [];
  for (const inFlight of [50, 500]) {
    const d = find(dbos, inFlight);
    const e = find(embedded, inFlight);
    const w1 = find(one, inFlight);
    const ratio = d && e ? e.workflowsPerSecond / d.workflowsPerSecond : Number.NaN;
    checks.push({
      target: `throughput at ${inFlight} in flight ≥ 3× DBOS (Perdure embedded vs DBOS in-process)`,
      measured:
        d && e
          ? `${rate(e)} vs ${rate(d)} = ${ratio.toFixed(2)}×; with 1 worker process ${w1 ? `${rate(w1)} = ${(w1.workflowsPerSecond / d.workflowsPerSecond).toFixed(2)}×` : "–"}`
          : "missing scenario",
      pass: ratio >= 3,
    });
  }
  const ds = find(dbos, 1);
  const es = find(embedded, 1);
  const w1s = find(one, 1);
  checks.push({
    target: "sequential median latency no worse than DBOS's (Perdure embedded vs DBOS in-process)",
    measured:
      ds && es
        ? `${ms(es.latencyMs.median)} vs ${ms(ds.latencyMs.median)} ms (p99 ${ms(es.latencyMs.p99)} vs ${ms(ds.latencyMs.p99)}); with 1 worker process ${w1s ? ms(w1s.latencyMs.median) : "–"} ms`
        : "missing scenario",
    pass: ds !== undefined && es !== undefined && es.latencyMs.median <= ds.latencyMs.median,
  });
  const w1 = find(one, 500);
  const w4 = find(four, 500);
  const scale = w1 && w4 ? w4.workflowsPerSecond / w1.workflowsPerSecond : Number.NaN;
  checks.push({
    target: "throughput at 500 in flight with 4 worker processes ≥ 1.5× 1 worker process",
    measured: w1 && w4 ? `${rate(w4)} vs ${rate(w1)} = ${scale.toFixed(2)}×` : "missing scenario",
    pass: scale >= 1.5,
  });
  // The median round: a lease renewal (housekeeping, every leaseTtlMs / 3) that happens to fall
  // into a round's window adds a commit that no step made; the worst round is shown too.
  const sequential = rows.filter((r) => r.median.engine.kind === "perdure" && r.median.inFlight === 1);
  const worker = (r: PgResult | undefined) => r?.storeCommits?.worker ?? Number.NaN;
  checks.push({
    target: "worker commits per sequential 3-step workflow ≤ 4 (store.commitCount), client 1",
    measured: sequential.length
      ? sequential
          .map(
            (r) =>
              `${engineLabel(r.median.engine)} ${fixed(r.median.storeCommits?.client ?? Number.NaN, 2)} + ` +
              `${fixed(worker(r.median), 2)} (worst round ${fixed(Math.max(...r.rounds.map(worker)), 3)})`,
          )
          .join("; ")
      : "missing scenario",
    pass:
      sequential.length > 0 &&
      sequential.every((r) => worker(r.median) <= 4 && (r.median.storeCommits?.client ?? Number.NaN) <= 1),
  });
  return checks;
}

export function pgTargetLines(checks: readonly PgTargetCheck[]): string[] {
  return checks.map((c) => `${c.pass ? "PASS" : "FAIL"}  [postgres] ${c.target} — ${c.measured}`);
}

const START = "<!-- perdure-bench:postgres:start -->";
const END = "<!-- perdure-bench:postgres:end -->";

/**
 * Puts the PostgreSQL section into BENCHMARKS.md between its markers, leaving the rest (the
 * SQLite figures) as it is; appends it if the markers are missing.
 */
export function writePgSection(file: string, section: string): void {
  const block = `${START}\n${section.trim()}\n${END}\n`;
  const old = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const start = old.indexOf(START);
  const end = old.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${old.slice(0, start)}${block}${old.slice(end + END.length).replace(/^\n/, "")}`
      : `${old.trimEnd()}\n\n${block}`;
  writeFileSync(file, next);
}

/** Carries the PostgreSQL section of an old BENCHMARKS.md over into a freshly generated one. */
export function keepPgSection(oldText: string, newText: string): string {
  const start = oldText.indexOf(START);
  const end = oldText.indexOf(END);
  if (start < 0 || end < start || newText.includes(START)) return newText;
  return `${newText.trimEnd()}\n\n${oldText.slice(start, end + END.length)}\n`;
}

export function pgSection(input: {
  machine: MachineFacts;
  server: Record<string, string>;
  config: PgBenchConfig;
  rows: PgReported[];
  checks: PgTargetCheck[];
  notes: string[];
  totalSeconds: number;
}): string {
  const { machine, server, config, rows, checks } = input;
  const facts = markdownTable(
    ["", ""],
    [
      ["date", machine.date],
      ["CPU", `${machine.cpuModel}, ${machine.cores} cores`],
      ["memory", `${machine.memoryGiB} GiB`],
      ["Node.js", machine.node],
      ["OS", machine.os],
      [
        "PostgreSQL",
        `${server["server_version"] ?? "?"} on the same machine (127.0.0.1), one database for all engines`,
      ],
      [
        "server settings",
        `synchronous_commit=${server["synchronous_commit"]}, fsync=${server["fsync"]}, wal_sync_method=${server["wal_sync_method"]}, commit_delay=${server["commit_delay"]}, shared_buffers=${server["shared_buffers"]}`,
      ],
      ["load average at start", `${machine.loadAverage} (1 min)`],
    ],
    [false, false],
  );
  return `## PostgreSQL

Measured ${machine.date.slice(0, 10)} with \`npm run bench:postgres\`${config.quick ? " (BENCH_QUICK=1: a short run, not for comparison)" : ""}, in ${Math.round(input.totalSeconds)} s:
${config.rounds} round${config.rounds === 1 ? "" : "s"} of every scenario, engines in a rotating order within each round; the table shows
the median round and "rounds' range" the spread of the headline figure.

${facts}

### Targets

\`\`\`
${pgTargetLines(checks).join("\n")}
\`\`\`

${input.notes.map((n) => `- ${n}`).join("\n")}

### Results

${pgTable(rows)}

### What was run

- **workflow**: the SQLite benchmark's: an orchestration calling three trivial activities in a chain.
- **raw pg, 4 INSERT txns**: per workflow, four single-row INSERTs, each its own autocommit
  transaction, one after the other, through a \`pg\` pool of 10: the least any engine can write to
  record a start and three steps durably.
- **Perdure, embedded**: worker and client in the benchmark process, on one store (default options).
- **Perdure, N worker processes**: N forked Node processes, each one worker with default options
  and its own store; the client in the benchmark process with a store of its own. Every wake-up
  across processes goes through LISTEN/NOTIFY.
- **DBOS Transact, in-process**: \`@dbos-inc/dbos-sdk\` (installed in \`bench/peers\`, not a Perdure
  dependency) in a process of its own, the workflow registered with \`DBOS.registerWorkflow\`, the
  steps with \`DBOS.registerStep\`, started with \`DBOS.startWorkflow\` and awaited with \`getResult\`
  in the same process: DBOS's usual embedded set-up, without a queue.
- **sequential**: ${config.sequential} workflows one at a time after ${config.warmup} warm-up workflows; **N in flight**: N callers
  each start their next workflow when their last one completed, until ${config.throughputTotal} completed (after
  ${config.throughputWarmup} warm-up workflows); latency columns are start-to-completion under that load.

### How to read this

- **store commits/wf**: Perdure's own count (\`store.commitCount\`) of write transactions that
  changed rows: the client's starts, and everything the workers wrote (episodes, activity results,
  lease renewals). The design's budget for a 3-activity chain is 1 + 4.
- **write txns/wf**: transaction ids the server handed out during the measurement, cluster-wide:
  every transaction that wrote or locked rows, committed or not, whoever made it (so it counts
  DBOS's too). Exact, unlike the statistics below.
- **stale episodes/wf**: episode commits the store refused because another worker had taken the
  instance since this one polled it: all the worker's reading, replaying and committing for that
  episode was wasted. With several workers every idle worker is woken for a new instance and
  races for it; one wins.
- **CPU ms/wf**: CPU time per workflow of the engine's processes (the benchmark process, which is
  the client and, embedded, the worker; the worker processes; DBOS's process) and of all of
  PostgreSQL's processes. The machine has ${machine.cores} cores for both: their sum bounds throughput.
- **xact_commit/wf**: \`pg_stat_database.xact_commit\` of the bench database: every committed
  transaction, each autocommit read included, so it counts polling and status reads too. Read
  after waiting for the statistics to settle; idle polling during those waits adds a little.
- **WAL fsyncs/wf** (\`pg_stat_wal.wal_sync\`): the durable flushes commits waited for. Concurrent
  commits share one, which is why it falls below the number of write transactions under load.
`;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function ms(value: number): string {
  return Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(1)) : "–";
}

function rate(r: PgResult): string {
  return `${r.workflowsPerSecond.toFixed(0)} wf/s`;
}
