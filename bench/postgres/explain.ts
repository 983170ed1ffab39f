import type { PgReported } from "./report.js";
import { engineLabel, type PgResult } from "./result.js";

/**
 * Sentences that say where the time goes, computed from the figures themselves: what a
 * commit costs on this disk (the raw baseline), how many the engines made, the CPU each
 * spent, and what racing for new instances costs several worker processes.
 */
export function explain(rows: readonly PgReported[]): string[] {
  const find = (label: string, inFlight: number): PgResult | undefined =>
    rows.find((r) => engineLabel(r.median.engine) === label && r.median.inFlight === inFlight)?.median;
  const workers = (n: number) => `Perdure, ${n} worker process${n === 1 ? "" : "es"}`;
  const cpu = (r: PgResult) => r.cpuMs.engine + r.cpuMs.postgres;
  const notes: string[] = [];

  const raw = find("raw pg, 4 INSERT txns", 1);
  if (raw) {
    const perCommit = raw.latencyMs.median / 4;
    notes.push(
      `**Latency.** A single-row autocommit INSERT costs ${perCommit.toFixed(2)} ms here (round trip + WAL fsync). ` +
        ["Perdure, embedded", workers(1), "DBOS Transact, in-process"]
          .map((label) => {
            const r = find(label, 1);
            return r
              ? `${label}: ${r.latencyMs.median.toFixed(2)} ms median for ${r.server.writeXacts.toFixed(2)} write transactions ` +
                  `(${(r.server.writeXacts * perCommit).toFixed(2)} ms at that price) and ${r.server.xactCommit.toFixed(1)} ` +
                  `transactions in all, ${cpu(r).toFixed(1)} ms of CPU per workflow`
              : undefined;
          })
          .filter(Boolean)
          .join("; ") +
        ". A lone workflow is bound by CPU and round trips, not by fsync: on this VM every socket write to the " +
        "server is an expensive system call, and each engine makes dozens of statements per workflow (its reads " +
        "included), against the baseline's four.",
    );
  }

  const embedded500 = find("Perdure, embedded", 500);
  const dbos500 = find("DBOS Transact, in-process", 500);
  if (embedded500 && dbos500) {
    notes.push(
      `**Throughput.** At 500 in flight Perdure embedded spends ${cpu(embedded500).toFixed(2)} ms of CPU per workflow ` +
        `(${embedded500.cpuMs.engine.toFixed(2)} in Node, ${embedded500.cpuMs.postgres.toFixed(2)} in PostgreSQL) and ` +
        `${embedded500.server.writeXacts.toFixed(2)} write transactions (group commit); DBOS spends ${cpu(dbos500).toFixed(2)} ms ` +
        `and ${dbos500.server.writeXacts.toFixed(2)} (a transaction per step). On 2 cores CPU is the bound for both, so the ` +
        `throughput ratio is about the CPU ratio (${(cpu(dbos500) / cpu(embedded500)).toFixed(2)}×): reaching 3× needs Perdure ` +
        `below ${(cpu(dbos500) / 3).toFixed(2)} ms per workflow. ${leftAt500(embedded500)}`,
    );
  }

  const scaling = [1, 2, 4].map((n) => find(workers(n), 500));
  if (scaling.every((r) => r !== undefined)) {
    const [one, , four] = scaling as PgResult[];
    const busy = (r: PgResult) => (cpu(r) * r.workflowsPerSecond) / 10 / 2;
    notes.push(
      `**Worker processes.** At 500 in flight: ${scaling
        .map(
          (r, i) =>
            `${[1, 2, 4][i]} → ${r?.workflowsPerSecond.toFixed(0)} wf/s, ${r?.storeCommits?.stale.toFixed(2)} stale episodes, ` +
            `${r ? cpu(r).toFixed(2) : "–"} ms CPU per workflow (the 2 cores ${r ? busy(r).toFixed(0) : "–"}% busy)`,
        )
        .join("; ")}. Workers that see each other reserve the ready instances they poll with advisory locks ` +
        "(no write), so hardly any episode is run twice (stale episodes above), at the price of a lock and an unlock " +
        "statement per poll. The " +
        `bottleneck is the machine's CPU: one worker process and PostgreSQL already keep ${one ? busy(one).toFixed(0) : "–"}% ` +
        "of both cores busy, so more processes add no capacity, only their own polls, reservations, connections " +
        `and context switches (CPU per workflow ${one ? cpu(one).toFixed(2) : "–"} → ${four ? cpu(four).toFixed(2) : "–"} ms), ` +
        `not PostgreSQL's fsync (${four?.server.walSyncs.toFixed(2)} WAL fsyncs per workflow with 4 workers). On a machine ` +
        "with cores to spare, worker processes add throughput until PostgreSQL's CPU is the bound. Alone, a workflow on " +
        "several workers costs the same 1 + 4 transactions as on one.",
    );
  }
  return notes;
}

/** Where Perdure's CPU goes at 500 in flight, from its transaction count and the CPU split. */
function leftAt500(r: PgResult): string {
  const xacts = r.server.xactCommit;
  const { engine, postgres } = r.cpuMs;
  const split =
    Math.abs(engine - postgres) <= 0.05 * Math.max(engine, postgres)
      ? "Node and PostgreSQL take about equal shares."
      : `${postgres > engine ? "PostgreSQL's" : "Node's"} share is the larger one.`;
  const reads =
    xacts >= 1
      ? `What is left is mostly reads: ${xacts.toFixed(1)} transactions per workflow in all, most of them outside ` +
        "group commit (the client's status reads in waitForCompletion, polls), each a round trip that costs both " +
        "Node and PostgreSQL CPU; and the write batches' statements, which PostgreSQL executes for every row."
      : `Round trips are few (${xacts.toFixed(2)} transactions per workflow in all, reads included: they are batched ` +
        "too); what is left is the batches' statements, which PostgreSQL executes for every row, and Node's own work.";
  return `${reads} ${split}`;
}
