import type { Durability } from "./config.js";
import type { ScenarioKind, ScenarioResult } from "./result.js";
import { median } from "./stats.js";
import type { Reported } from "./summary.js";

/** One target of the performance issue, checked against one durability's figures. */
export interface TargetCheck {
  durability: Durability;
  target: string;
  measured: string;
  pass: boolean;
}

const MAX_WORKER_COMMITS = 4;
const MAX_LATENCY_RATIO = 1.5;
const MIN_THROUGHPUT_RATIO = 5;

/**
 * Checks the three targets; a missing scenario fails its target rather than passing
 * silently. Ratios are taken round by round (engine and baseline of the same round ran
 * seconds apart, so a slow spell of this shared machine hits both) and the median
 * ratio is judged.
 */
export function checkTargets(durability: Durability, rows: readonly Reported[]): TargetCheck[] {
  const find = (kind: ScenarioKind, inFlight = 1) =>
    rows.find((r) => r.median.kind === kind && r.median.inFlight === inFlight);
  const raw = find("raw-sqlite");
  const sequential = find("engine-sequential");
  const at500 = find("engine-throughput", 500);

  // Commits barely vary, but take the worst round of every engine scenario: it is a ceiling.
  const engineRows = rows.filter((r) => r.median.commits);
  const worst = (r: Reported) => Math.max(...r.rounds.map((x) => x.commits?.worker ?? Number.POSITIVE_INFINITY));
  const perScenario = engineRows.map(
    (r) => `${r.median.inFlight === 1 ? "sequential" : `${r.median.inFlight} in flight`} ${worst(r).toFixed(2)}`,
  );

  const latency = pairedRatios(sequential, raw, (r) => r.latencyMs.median);
  const throughput = pairedRatios(at500, raw, (r) => r.workflowsPerSecond);

  return [
    {
      durability,
      target: `worker commits per 3-step workflow ≤ ${MAX_WORKER_COMMITS}`,
      measured: engineRows.length > 0 ? `worst round: ${perScenario.join(", ")}` : "no engine scenario ran",
      pass: engineRows.length > 0 && engineRows.every((r) => worst(r) <= MAX_WORKER_COMMITS),
    },
    {
      durability,
      target: `sequential median latency ≤ ${MAX_LATENCY_RATIO}× raw 4-insert baseline`,
      measured: describe(latency, (r) => `${r.latencyMs.median.toFixed(2)} ms`, sequential, raw),
      pass: median(latency) <= MAX_LATENCY_RATIO,
    },
    {
      durability,
      target: `throughput at 500 in flight ≥ ${MIN_THROUGHPUT_RATIO}× raw sequential workflows/s`,
      measured: describe(throughput, (r) => `${r.workflowsPerSecond.toFixed(0)} wf/s`, at500, raw),
      pass: median(throughput) >= MIN_THROUGHPUT_RATIO,
    },
  ];
}

/** `figure(engine) / figure(baseline)` for every round in which both ran. */
function pairedRatios(
  engine: Reported | undefined,
  baseline: Reported | undefined,
  figure: (r: ScenarioResult) => number,
): number[] {
  if (!engine || !baseline) return [];
  return engine.rounds.flatMap((e) => {
    const b = baseline.rounds.find((r) => r.round === e.round);
    return b ? [figure(e) / figure(b)] : [];
  });
}

function describe(
  ratios: number[],
  show: (r: ScenarioResult) => string,
  engine: Reported | undefined,
  baseline: Reported | undefined,
): string {
  if (!engine || !baseline || ratios.length === 0) return "missing scenario";
  const range =
    ratios.length > 1 ? ` (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : "";
  return (
    `${median(ratios).toFixed(2)}× median of per-round ratios${range}; ` +
    `median rounds ${show(engine.median)} vs ${show(baseline.median)}`
  );
}
