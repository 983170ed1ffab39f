import type { BenchConfig, Durability } from "./config.js";
import { count, fixed, latency } from "./format.js";
import type { MachineFacts } from "./machine.js";
import { scenarioLabel } from "./result.js";
import type { Reported } from "./summary.js";
import { markdownTable } from "./table.js";
import type { TargetCheck } from "./targets.js";

/** The figures of one durability as a table: the median round of each scenario. */
export function resultsTable(rows: readonly Reported[]): string {
  const headers = [
    "scenario",
    "workflows/s",
    "median ms",
    "p99 ms",
    "rounds' range",
    "client commits/wf",
    "worker commits/wf",
    "pages/commit",
    "peak RSS MiB",
  ];
  const body = rows.map(({ median: r, range }) => [
    scenarioLabel(r),
    fixed(r.workflowsPerSecond, r.workflowsPerSecond < 100 ? 1 : 0),
    latency(r.latencyMs.median),
    latency(r.latencyMs.p99),
    r.kind === "engine-throughput"
      ? `${fixed(range[0], 0)}–${fixed(range[1], 0)} wf/s`
      : `${latency(range[0])}–${latency(range[1])} ms`,
    r.commits ? fixed(r.commits.client, 2) : "–",
    r.commits ? fixed(r.commits.worker, 2) : "–",
    r.pagesPerCommit === undefined ? "–" : fixed(r.pagesPerCommit, 1),
    fixed(r.peakRssMiB, 0),
  ]);
  return markdownTable(headers, body, [false, true, true, true, true, true, true, true, true]);
}

/** One line per target: PASS or FAIL, the target, and what was measured. */
export function targetLines(checks: readonly TargetCheck[]): string[] {
  return checks.map((c) => `${c.pass ? "PASS" : "FAIL"}  [${c.durability}] ${c.target} — ${c.measured}`);
}

/** The whole BENCHMARKS.md. */
export function benchmarksMarkdown(input: {
  machine: MachineFacts;
  config: BenchConfig;
  tables: { durability: Durability; rows: Reported[] }[];
  checks: TargetCheck[];
  totalSeconds: number;
  /** Further sections (fan-out, listing, entities, …), appended in order. */
  sections: string[];
}): string {
  const { machine, config, tables, checks, sections } = input;
  const facts = markdownTable(
    ["", ""],
    [
      ["date", machine.date],
      ["CPU", machine.cpuModel],
      ["cores", String(machine.cores)],
      ["memory", `${machine.memoryGiB} GiB`],
      ["Node.js", machine.node],
      ["OS", machine.os],
      ["store files in", machine.tempDir],
      ["load average at start", `${machine.loadAverage} (1 min)`],
      ["a small file write (pwrite)", `${machine.writeCallMicros} µs (SQLite makes 2 per WAL page)`],
    ],
    [false, false],
  );
  const durabilityNote: Record<Durability, string> = {
    full: 'durability "full" (SQLite `synchronous=FULL`, the default): every commit is fsynced',
    normal:
      'durability "normal" (SQLite `synchronous=NORMAL`): WAL commits are not fsynced; they survive a process crash, not a power loss',
  };
  return `# Benchmarks

Measured ${machine.date.slice(0, 10)} with \`npm run bench\`${config.quick ? " (BENCH_QUICK=1: a short run, not for comparison)" : ""}: the SQLite sections in ${Math.round(input.totalSeconds)} s
(the PostgreSQL section, run last by the same command, gives its own time).
The 3-activity chain and the fan-out ran ${config.rounds} time${config.rounds === 1 ? "" : "s"}, interleaved (engine and baselines alternate
within each round, in a rotating order, so drift on this noisy machine hits both); each table
shows the median round, and "rounds' range" the spread of the headline figure over the rounds.
Sections: the 3-activity chain on SQLite (targets, one table per durability), then the
fan-out of ${count(config.fanOut)} activities, listing ${count(config.listInstances)} instances, durable entities and PostgreSQL.

${facts}

## Targets

\`\`\`
${targetLines(checks).join("\n")}
\`\`\`

${tables.map((t) => commitFloorNote(t.durability, t.rows)).join("\n")}
${tables.map((t) => throughputNote(t.durability, t.rows)).join("\n")}

${tables
  .map(
    (t) => `## ${durabilityNote[t.durability]}

${resultsTable(t.rows)}
`,
  )
  .join("\n")}
## What was run

- **workflow**: an orchestration calling three activities in a chain; each activity is a
  trivial \`async\` function returning a number. One worker and one client in the same
  process, on a fresh SQLite file per scenario (removed after), default worker options.
- **plain function calls**: the same three async calls chained, no engine, no store.
- **raw SQLite, 4 INSERT txns**: per workflow, four single-row INSERTs, each its own
  transaction, with better-sqlite3 on a fresh WAL file with the same \`synchronous\` setting,
  warmed up past the first checkpoint (until then each commit also grows the WAL file, which
  makes its fsync dearer): the least any engine can write to record a start and three steps
  durably.
- **raw SQLite, 4 txns of engine size**: the same four transactions, each inserting one row
  into each of as many tables as the pages an engine commit writes (counted before the
  rounds): what commits of the engine's size cost on this disk, with none of its work.
- **pages/commit**: WAL frames written per commit, counted from the WAL's growth over 20
  untimed workflows while a second connection holds checkpoints off. A commit costs a
  \`write\` per page and, with "full", an fsync whose price grows with the pages.
- **engine, sequential**: one workflow at a time, \`client.start\` → \`waitForCompletion\`;
  ${config.sequential} measured after ${config.warmup} warm-up workflows.
- **engine, N in flight**: N callers each start their next workflow as soon as their last one
  completed, until ${config.throughputTotal} have completed (after ${config.throughputWarmup} warm-up
  workflows); latency columns are start-to-completion under that load. With the default
  \`maxConcurrentActivities\` (100), at 500 in flight most next activities wait in the store
  until a slot frees and the worker claims them.

## How to read this

- A **commit** is one SQLite write transaction that changed something (\`store.commitCount\`):
  one WAL append of every page it changed and, with durability "full", one fsync. What an
  fsync costs depends on the disk and on what else writes to it: compare the raw baseline's
  two tables. An engine commit changes several tables and indexes, so it writes more pages
  than the baseline's one-row insert.
- **Client commits/wf** come from \`client.start\` storing a start on its own; **worker
  commits/wf** are all the others (episodes, activity hand-offs, lease renewals). The client
  here shares the worker's store object, as an embedded application does, so its starts are
  *eager*: the commit of the first episode creates the instance, and client commits are 0
  (with \`eagerStart: false\`, or a client in another process, a start is 1 commit more). The
  design's budget for a 3-activity chain is 4 worker commits: the first episode, then one per
  activity result, each also recording what the orchestration does next.
- **Group commit**: commits from instances that are ready at the same moment (and starts
  issued in the same tick) are written in one transaction. Alone, a workflow pays its 4
  commits; with many in flight they share transactions, so commits per workflow fall below 1
  and throughput is bounded by CPU rather than by fsync. That is why the throughput target
  compares against the raw *sequential* baseline.
- **Peak RSS** is the highest resident set size sampled during a scenario, for the whole
  process; it includes what earlier scenarios left on the heap, so read it as an upper bound.
- Latencies are medians and 99th percentiles (nearest rank) in milliseconds.
${sections.map((section) => `\n${section.trimEnd()}\n`).join("")}`;
}

/**
 * Says what bounds throughput at 500 in flight: the wall time per workflow, the CPU the
 * process spent on each (every thread) and how busy the event loop was; and how little time
 * per workflow the 5× target leaves.
 */
function throughputNote(durability: Durability, rows: readonly Reported[]): string {
  const raw = rows.find((r) => r.median.kind === "raw-sqlite")?.median;
  const at500 = rows.find((r) => r.median.kind === "engine-throughput" && r.median.inFlight === 500)?.median;
  if (!raw || !at500 || at500.cpuMicrosPerWorkflow === undefined || at500.eventLoopBusy === undefined) return "";
  const wallMicros = 1e6 / at500.workflowsPerSecond;
  const needed = 1e6 / (raw.workflowsPerSecond * 5);
  return (
    `- **${durability}, 500 in flight**: ${at500.workflowsPerSecond.toFixed(0)} workflows/s is ${wallMicros.toFixed(0)} µs ` +
    `a workflow; the process spent ${at500.cpuMicrosPerWorkflow.toFixed(0)} µs of CPU on each (all threads: ` +
    `orchestrations, SQLite, its system calls, garbage collection) with the event loop busy ` +
    `${(at500.eventLoopBusy * 100).toFixed(0)}% of the time: the one thread that runs orchestrations and SQLite ` +
    `is the bound. 5× the raw baseline (${(raw.workflowsPerSecond * 5).toFixed(0)} workflows/s) leaves ` +
    `${needed.toFixed(0)} µs a workflow.`
  );
}

/**
 * Splits the sequential latency into what its commits cost on this disk and the rest (the
 * engine's own work), so a failed latency target says which it is: at the single-row
 * baseline's price per commit, and at the price of raw commits that write as many pages
 * as the engine's.
 */
function commitFloorNote(durability: Durability, rows: readonly Reported[]): string {
  const raw = rows.find((r) => r.median.kind === "raw-sqlite")?.median;
  const paged = rows.find((r) => r.median.kind === "raw-sqlite-paged")?.median;
  const sequential = rows.find((r) => r.median.kind === "engine-sequential")?.median;
  if (!raw || !sequential?.commits) return "";
  const commits = sequential.commits.client + sequential.commits.worker;
  const perCommit = raw.latencyMs.median / 4;
  const floor = commits * perCommit;
  let note =
    `- **${durability}**: a raw single-row commit costs ${latency(perCommit)} ms. The engine's sequential ` +
    `workflow makes ${commits.toFixed(2)} commits (start + worker), so at that price its floor is ` +
    `${latency(floor)} ms (${(commits / 4).toFixed(2)}× the baseline).`;
  if (!paged || sequential.pagesPerCommit === undefined) {
    return `${note} The other ${latency(sequential.latencyMs.median - floor)} ms of its ${latency(sequential.latencyMs.median)} ms median are the engine's own work and its larger transactions.`;
  }
  const pagedPerCommit = paged.latencyMs.median / 4;
  const pagedFloor = commits * pagedPerCommit;
  note +=
    ` But an engine commit writes ${fixed(sequential.pagesPerCommit, 1)} pages (instance row, history, ` +
    `task rows and their indexes) where the baseline's writes ${fixed(raw.pagesPerCommit ?? 1, 1)}; ` +
    `a raw commit of ${fixed(paged.pagesPerCommit ?? 0, 1)} pages costs ${latency(pagedPerCommit)} ms, so ` +
    `the engine's commits alone cost about ${latency(pagedFloor)} ms ` +
    `(${fixed(pagedFloor / raw.latencyMs.median, 2)}× the baseline), and the other ` +
    `${latency(sequential.latencyMs.median - pagedFloor)} ms of its ${latency(sequential.latencyMs.median)} ms ` +
    "median are the engine's own work.";
  return note;
}
