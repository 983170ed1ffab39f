// Durable entities beside the raw SQLite floor, measured in the same run, for each
// durability: 10,000 signals to one entity; 1,000 entities × 10 operations; callEntity
// round-trip latency. Each scenario runs `rounds` times and the median round (by its
// headline figure) is reported; the machine is shared and noisy. Run by `npm run bench`
// (its "Entities" section) and alone by `npm run bench:entities`.
import type { Durability } from "../config.js";
import { medianBy } from "../stats.js";
import {
  type Phase,
  type RoundTripResult,
  roundTripScenario,
  type SignalsResult,
  signalsScenario,
} from "./engineScenarios.js";
import { rawRoundTrip, rawSignals, rawUnbatched } from "./rawScenarios.js";

/** How much work the entity scenarios do; `quick` divides every count by 10 and runs 1 round. */
export interface EntitiesBenchConfig {
  quick: boolean;
  rounds: number;
  hot: { entities: number; perEntity: number };
  spread: { entities: number; perEntity: number };
  calls: number;
  unbatched: number;
}

export function entitiesBenchConfig(quick: boolean): EntitiesBenchConfig {
  const scale = quick ? 10 : 1;
  return {
    quick,
    rounds: quick ? 1 : 3,
    hot: { entities: 1, perEntity: 10_000 / scale },
    spread: { entities: 1_000 / scale, perEntity: 10 },
    calls: 400 / scale,
    unbatched: 1_000 / scale,
  };
}

/** One line of the entities table. */
export interface EntitiesRow {
  scenario: string;
  durability: Durability;
  engine: string;
  raw: string;
}

const durabilities: Durability[] = ["full", "normal"];

const perSecond = (p: Phase): number => p.operations / p.seconds;

function phaseCell(p: Phase): string {
  return `${Math.round(perSecond(p)).toLocaleString("en")} ops/s, ${p.commits} commits (${p.seconds.toFixed(2)} s)`;
}

function roundTripCell(r: RoundTripResult): string {
  return `${r.meanMs.toFixed(2)} ms/call (median ${r.latencyMs.median.toFixed(2)}, p99 ${r.latencyMs.p99.toFixed(2)}), ${r.commitsPerCall.toFixed(2)} commits/call`;
}

/** Runs every entity scenario and its raw baseline; logs a line per scenario. */
export async function runEntitiesBench(
  config: EntitiesBenchConfig,
  log: (line: string) => void,
): Promise<EntitiesRow[]> {
  async function rounds<T>(run: () => Promise<T> | T, key: (t: T) => number): Promise<T> {
    const results: T[] = [];
    for (let i = 0; i < config.rounds; i++) results.push(await run());
    return medianBy(results, key);
  }
  const rows: EntitiesRow[] = [];
  for (const durability of durabilities) {
    for (const [label, shape] of [
      [`${config.hot.perEntity.toLocaleString("en")} signals to one entity`, config.hot],
      [
        `${config.spread.entities.toLocaleString("en")} entities × ${config.spread.perEntity} operations`,
        config.spread,
      ],
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
      log(
        `  entities ${durability.padEnd(6)} ${label}: apply ${phaseCell(engine.apply)} | raw ${phaseCell(raw.apply)}`,
      );
    }
    const unbatched = await rounds(
      () => rawUnbatched(durability, config.unbatched),
      (p: Phase) => perSecond(p),
    );
    rows.push({
      scenario: `one transaction per operation (${config.unbatched} operations)`,
      durability,
      engine: "—",
      raw: phaseCell(unbatched),
    });
    const engineTrip = await rounds(
      () => roundTripScenario(durability, config.calls),
      (r: RoundTripResult) => r.meanMs,
    );
    const rawTrip = await rounds(
      () => rawRoundTrip(durability, config.calls),
      (r: RoundTripResult) => r.meanMs,
    );
    rows.push({
      scenario: `callEntity round trip (${config.calls} sequential calls)`,
      durability,
      engine: roundTripCell(engineTrip),
      raw: roundTripCell(rawTrip),
    });
    log(`  entities ${durability.padEnd(6)} round trip: ${roundTripCell(engineTrip)} | raw ${roundTripCell(rawTrip)}`);
  }
  return rows;
}

/** The entities table in Markdown. */
export function entitiesTable(rows: readonly EntitiesRow[]): string {
  return [
    "| scenario | durability | Perdure | raw SQLite (same run) |",
    "| --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.scenario} | ${r.durability} | ${r.engine} | ${r.raw} |`),
  ].join("\n");
}

/** The "Entities" section: how the scenarios work, then the table. `heading` sets its level and title. */
export function entitiesSection(rows: readonly EntitiesRow[], config: EntitiesBenchConfig, heading: string): string {
  return `${heading}

SQLite store, a fresh file per run; median of ${config.rounds} round${config.rounds === 1 ? "" : "s"}.

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

${entitiesTable(rows)}
`;
}
