// Entry point of `npm run bench:entities`: durable entities beside the raw SQLite floor,
// measured in the same run, for each durability. Writes a Markdown report to
// ENTITIES_BENCH_OUT (default /work/briefs/entities-bench.md) unless BENCH_QUICK=1.
//
// Scenarios: 10,000 signals to one entity; 1,000 entities × 10 operations; callEntity
// round-trip latency. Each engine scenario runs ROUNDS times and the median round (by its
// headline figure) is reported; the machine is shared and noisy.
import { writeFileSync } from "node:fs";
import type { Durability } from "../config.js";
import { machineFacts } from "../machine.js";
import { medianBy } from "../stats.js";
import {
  type Phase,
  type RoundTripResult,
  roundTripScenario,
  type SignalsResult,
  signalsScenario,
} from "./engineScenarios.js";
import { rawRoundTrip, rawSignals, rawUnbatched } from "./rawScenarios.js";

const quick = process.env.BENCH_QUICK === "1";
const ROUNDS = quick ? 1 : 3;
const durabilities: Durability[] = ["full", "normal"];
const scale = quick ? 10 : 1;
const HOT = { entities: 1, perEntity: 10_000 / scale };
const SPREAD = { entities: 1_000 / scale, perEntity: 10 };
const CALLS = 400 / scale;
const UNBATCHED = 1_000 / scale;

const perSecond = (p: Phase): number => p.operations / p.seconds;

async function rounds<T>(run: () => Promise<T> | T, key: (t: T) => number): Promise<T> {
  const results: T[] = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await run());
  return medianBy(results, key);
}

interface Row {
  scenario: string;
  durability: Durability;
  engine: string;
  raw: string;
}

function phaseCell(p: Phase): string {
  return `${Math.round(perSecond(p)).toLocaleString("en")} ops/s, ${p.commits} commits (${p.seconds.toFixed(2)} s)`;
}

function roundTripCell(r: RoundTripResult): string {
  return `${r.meanMs.toFixed(2)} ms/call (median ${r.latencyMs.median.toFixed(2)}, p99 ${r.latencyMs.p99.toFixed(2)}), ${r.commitsPerCall.toFixed(2)} commits/call`;
}

async function main(): Promise<void> {
  const machine = machineFacts();
  log(
    `perdure entities bench${quick ? " (quick)" : ""}: ${ROUNDS} round(s), node ${machine.node}, ${machine.cores} cores`,
  );
  const rows: Row[] = [];
  for (const durability of durabilities) {
    for (const [label, shape] of [
      [`${HOT.perEntity.toLocaleString("en")} signals to one entity`, HOT],
      [`${SPREAD.entities.toLocaleString("en")} entities × ${SPREAD.perEntity} operations`, SPREAD],
    ] as const) {
      const engine = await rounds(
        () => signalsScenario(durability, shape.entities, shape.perEntity),
        (r: SignalsResult) => perSecond(r.apply),
      );
      const raw = await rounds(
        () => rawSignals(durability, shape.entities, shape.perEntity),
        (r: SignalsResult) => perSecond(r.apply),
      );
      rows.push({
        scenario: `${label}: send (client)`,
        durability,
        engine: phaseCell(engine.send),
        raw: phaseCell(raw.send),
      });
      rows.push({
        scenario: `${label}: apply (worker)`,
        durability,
        engine: phaseCell(engine.apply),
        raw: phaseCell(raw.apply),
      });
      log(`  ${durability.padEnd(6)} ${label}: apply ${phaseCell(engine.apply)} | raw ${phaseCell(raw.apply)}`);
    }
    const unbatched = await rounds(
      () => rawUnbatched(durability, UNBATCHED),
      (p: Phase) => perSecond(p),
    );
    rows.push({
      scenario: `one transaction per operation (${UNBATCHED} operations)`,
      durability,
      engine: "—",
      raw: phaseCell(unbatched),
    });
    const engineTrip = await rounds(
      () => roundTripScenario(durability, CALLS),
      (r: RoundTripResult) => r.meanMs,
    );
    const rawTrip = await rounds(
      () => rawRoundTrip(durability, CALLS),
      (r: RoundTripResult) => r.meanMs,
    );
    rows.push({
      scenario: `callEntity round trip (${CALLS} sequential calls)`,
      durability,
      engine: roundTripCell(engineTrip),
      raw: roundTripCell(rawTrip),
    });
    log(`  ${durability.padEnd(6)} round trip: ${roundTripCell(engineTrip)} | raw ${roundTripCell(rawTrip)}`);
  }

  const table = [
    "| scenario | durability | Perdure | raw SQLite (same run) |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.scenario} | ${r.durability} | ${r.engine} | ${r.raw} |`),
  ].join("\n");
  console.log(`\n${table}\n`);
  const out = process.env.ENTITIES_BENCH_OUT ?? (quick ? undefined : "/work/briefs/entities-bench.md");
  if (out) {
    writeFileSync(out, report(machine, table));
    log(`wrote ${out}`);
  }
}

function report(machine: ReturnType<typeof machineFacts>, table: string): string {
  return `# Durable entities: benchmark

Measured by \`npm run bench:entities\` (bench/entities/) on ${machine.date}: ${machine.cpuModel}, ${machine.cores} cores,
${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}, temp files in ${machine.tempDir}, load average
${machine.loadAverage} at the start. SQLite store, a fresh file per run; median of ${ROUNDS} rounds.

- **send**: the client queues every signal at once (\`client.signalEntity\` without waiting in between); its group
  commit writes up to 1,000 signals per transaction.
- **apply**: a worker started once every signal waits applies them: each poll finds up to 100 entities and claims
  them (one commit), each entity's batch applies up to 1,000 of its messages, and the group commit writes the batches
  waiting at that moment in one transaction. So 10,000 signals to one entity take 1 claim + 10 batch commits, and
  1,000 entities × 10 take 10 claims + 1 group commit. Commits counted by the store (\`store.commitCount\`).
- **raw SQLite**: the same messages and states written by hand with better-sqlite3 on a WAL file with the same
  \`synchronous\` setting, in the same batch sizes — the floor under the engine's design, without leases, fencing,
  validation or JSON state copies. "One transaction per operation" is the naive floor without batching.
- **callEntity round trip**: an orchestration making sequential calls (each \`add\` then \`get\`). "ms/call" is wall
  time over calls; median and p99 come from the history's episode timestamps (whole milliseconds). Raw: the two
  transactions one call needs at least (the caller's commit that sends it, the entity's commit that applies it and
  writes the reply).

${table}
`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
