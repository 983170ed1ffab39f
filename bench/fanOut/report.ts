import type { BenchConfig } from "../config.js";
import { count, fixed, latency } from "../format.js";
import { medianBy } from "../stats.js";
import { markdownTable } from "../table.js";
import type { FanOutResult } from "./scenario.js";

/** The fan-out of one kind over all rounds, and its median round by wall time. */
export interface FanOutReported {
  median: FanOutResult;
  rounds: FanOutResult[];
  range: [number, number];
}

/** Engine first, then the plain calls; each with its median round. */
export function summarizeFanOut(results: readonly FanOutResult[]): FanOutReported[] {
  return (["engine", "plain"] as const).flatMap((kind) => {
    const rounds = results.filter((r) => r.kind === kind);
    if (rounds.length === 0) return [];
    const walls = rounds.map((r) => r.wallMs);
    return [
      {
        median: medianBy(rounds, (r) => r.wallMs),
        rounds,
        range: [Math.min(...walls), Math.max(...walls)] as [number, number],
      },
    ];
  });
}

function label(r: FanOutResult): string {
  return r.kind === "engine"
    ? `engine: ctx.all over ${count(r.activities)} activities, "full"`
    : `plain Promise.all over ${count(r.activities)} async calls`;
}

/** The fan-out table: wall time, memory and commits of the median round of each kind. */
export function fanOutTable(rows: readonly FanOutReported[]): string {
  const headers = [
    "scenario",
    "wall ms (median round)",
    "rounds' range ms",
    "RSS MiB start → peak",
    "heapUsed MiB start → peak",
    "commits",
    "history events",
  ];
  const body = rows.map(({ median: r, range }) => [
    label(r),
    latency(r.wallMs),
    `${latency(range[0])}–${latency(range[1])}`,
    `${fixed(r.memory.startRssMiB, 0)} → ${fixed(r.memory.peakRssMiB, 0)}`,
    `${fixed(r.memory.startHeapUsedMiB, 1)} → ${fixed(r.memory.peakHeapUsedMiB, 1)}`,
    r.commits === undefined ? "–" : String(r.commits),
    r.historyEvents === undefined ? "–" : String(r.historyEvents),
  ]);
  return markdownTable(headers, body, [false, true, true, true, true, true, true]);
}

/** The "Fan-out" section of BENCHMARKS.md. */
export function fanOutSection(rows: readonly FanOutReported[], config: BenchConfig): string {
  const engine = rows.find((r) => r.median.kind === "engine")?.median;
  const plain = rows.find((r) => r.median.kind === "plain")?.median;
  const ratio =
    engine && plain
      ? `\nThe engine's run takes ${fixed(engine.wallMs / plain.wallMs, 0)}× the plain calls' time: ` +
        `${latency(engine.wallMs / engine.activities)} ms per activity.\n`
      : "";
  return `## Fan-out of ${count(config.fanOut)} activities (durability "full")

${fanOutTable(rows)}
${ratio}
- **engine**: one orchestration calls ${count(config.fanOut)} trivial activities (\`addOne\`) at once with
  \`ctx.all\` and returns their sum; wall time from \`client.start\` to \`waitForCompletion\`
  returning. Each round starts a fresh store file and worker (default options: up to 100
  activities at a time), runs a ${count(config.fanOutWarmup)}-activity fan-out to warm up, collects the heap, then
  measures one run. The median round of ${config.rounds} is shown, with the spread of the rounds.
- **plain**: the same ${count(config.fanOut)} async calls with \`Promise.all\`, no engine and no store; the
  median of 101 runs per round, each from a collected heap, then the median round.
- **Memory** is read with \`process.memoryUsage()\`: every 5 ms on a timer and, for the
  engine, after every store commit (the store's change notification), since the largest
  moments are synchronous and keep the timer from firing; for the plain calls, after each
  run. "start" is right after the heap was collected, before \`client.start\`; "peak" is the
  highest sample. RSS is the whole process (SQLite's page cache included); \`heapUsed\` is
  V8's heap, live objects and garbage not yet collected, so its peak is an upper bound of
  what the run keeps alive.
- **commits**: store transactions (\`store.commitCount\`) from the start to the completion:
  the client's start, one episode commit per activity result (an instance runs one episode
  at a time, and each locally run activity's result is its own episode), and a claim for
  each activity that did not fit the worker's 100 slots when it was scheduled (slots free
  one at a time, so these are claimed one per transaction). With durability "full" each
  commit is an fsync.
`;
}
