import type { Durability } from "./config.js";
import type { ScenarioResult } from "./result.js";
import { medianBy } from "./stats.js";

/** One scenario over all its rounds, and the round that is reported (the median one). */
export interface Reported {
  median: ScenarioResult;
  rounds: ScenarioResult[];
  /** The lowest and highest headline figure over the rounds: how noisy it was. */
  range: [number, number];
}

/**
 * The headline figure of a scenario, which picks its median round: median latency for
 * the one-at-a-time scenarios, workflows per second for the throughput ones.
 */
export function headline(r: ScenarioResult): number {
  return r.kind === "engine-throughput" ? r.workflowsPerSecond : r.latencyMs.median;
}

/** Groups rounds by scenario (kind, in-flight count) for one durability, in table order. */
export function summarize(results: readonly ScenarioResult[], durability: Durability): Reported[] {
  const groups = new Map<string, ScenarioResult[]>();
  for (const r of results) {
    if (r.durability !== durability) continue;
    const key = `${r.kind}/${r.inFlight}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const order = ["plain", "raw-sqlite", "raw-sqlite-paged", "engine-sequential", "engine-throughput"];
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
      (a, b) => order.indexOf(a.median.kind) - order.indexOf(b.median.kind) || a.median.inFlight - b.median.inFlight,
    );
}
