import type { LatencySummary } from "../stats.js";
import type { ServerCounters } from "./database.js";

/** Which engine a row measured: the raw baseline, Perdure with N worker processes (0: embedded), or DBOS. */
export type PgEngine = { kind: "raw" } | { kind: "perdure"; workers: number } | { kind: "dbos" };

/** What one round of one scenario measured. */
export interface PgResult {
  engine: PgEngine;
  /** Workflows kept in flight: 1 is the sequential scenario. */
  inFlight: number;
  workflows: number;
  seconds: number;
  workflowsPerSecond: number;
  /** Start-to-completion latency, milliseconds. */
  latencyMs: LatencySummary;
  /** Server counters per workflow (see database.ts). */
  server: ServerCounters;
  /** The store's own commit counts per workflow, and episode commits refused as stale (Perdure only). */
  storeCommits?: { client: number; worker: number; stale: number };
  /** CPU milliseconds per workflow: the engine's processes (benchmark process included), and PostgreSQL's. */
  cpuMs: { engine: number; postgres: number };
}

export function engineLabel(engine: PgEngine): string {
  switch (engine.kind) {
    case "raw":
      return "raw pg, 4 INSERT txns";
    case "dbos":
      return "DBOS Transact, in-process";
    case "perdure":
      return engine.workers === 0
        ? "Perdure, embedded"
        : `Perdure, ${engine.workers} worker process${engine.workers === 1 ? "" : "es"}`;
  }
}

export function scenarioLabel(r: Pick<PgResult, "engine" | "inFlight">): string {
  return `${engineLabel(r.engine)}, ${r.inFlight === 1 ? "sequential" : `${r.inFlight} in flight`}`;
}
