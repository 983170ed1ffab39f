import type { Durability } from "./config.js";
import type { LatencySummary } from "./stats.js";

/** The scenarios, in the order the tables list them. */
export type ScenarioKind = "plain" | "raw-sqlite" | "raw-sqlite-paged" | "engine-sequential" | "engine-throughput";

/** What one round of one scenario measured. */
export interface ScenarioResult {
  kind: ScenarioKind;
  durability: Durability;
  /** Workflows kept in flight: 1 for the sequential scenarios. */
  inFlight: number;
  /** Workflows measured (warm-up excluded). */
  workflows: number;
  seconds: number;
  workflowsPerSecond: number;
  /** Start-to-completion latency of one workflow, in milliseconds. */
  latencyMs: LatencySummary;
  /** Store commits per workflow; only for the engine. */
  commits?: { client: number; worker: number };
  /** WAL frames (pages written) per commit, counted in an untimed run; for the sequential scenarios. */
  pagesPerCommit?: number;
  /** Process CPU (user + system, every thread) per workflow in microseconds; for the throughput scenarios. */
  cpuMicrosPerWorkflow?: number;
  /** Share of the time the event loop was busy (0-1); for the throughput scenarios. */
  eventLoopBusy?: number;
  /** Highest resident set size seen during the scenario, in MiB. */
  peakRssMiB: number;
  /** Which round (from 1) measured it: the targets compare scenarios of the same round. */
  round: number;
}

/** A short label for tables: "engine, 500 in flight". */
export function scenarioLabel(r: Pick<ScenarioResult, "kind" | "inFlight">): string {
  switch (r.kind) {
    case "plain":
      return "plain function calls";
    case "raw-sqlite":
      return "raw SQLite, 4 INSERT txns";
    case "raw-sqlite-paged":
      return "raw SQLite, 4 txns of engine size";
    case "engine-sequential":
      return "engine, sequential";
    case "engine-throughput":
      return `engine, ${r.inFlight} in flight`;
  }
}

/** What a scenario returns; the runner adds the memory it observed around it. */
export type Measurement = Omit<ScenarioResult, "peakRssMiB" | "round">;
