import Database from "better-sqlite3";
import type { BenchConfig, Durability } from "../config.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";
import { tempDatabase } from "../tempFile.js";

/**
 * The floor of any engine that records each step durably: per workflow, four single-row
 * INSERTs, each its own transaction (the start plus three steps), on a fresh WAL file with
 * the engine's synchronous setting, one workflow at a time.
 */
export async function rawSqlite(durability: Durability, config: BenchConfig): Promise<Measurement> {
  const file = tempDatabase(`raw-${durability}`);
  const db = new Database(file.file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    db.exec(
      "CREATE TABLE steps (id INTEGER PRIMARY KEY, workflow INTEGER NOT NULL, step INTEGER NOT NULL, value TEXT NOT NULL)",
    );
    const insert = db.prepare("INSERT INTO steps (workflow, step, value) VALUES (?, ?, ?)");
    const workflow = (n: number): void => {
      // Outside an explicit transaction every statement is its own (autocommit) transaction.
      for (let step = 0; step < 4; step++) insert.run(n, step, JSON.stringify({ value: n + step }));
    };
    for (let i = 0; i < config.warmup; i++) workflow(-1 - i);
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < config.sequential; i++) {
      const t = performance.now();
      workflow(i);
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      kind: "raw-sqlite",
      durability,
      inFlight: 1,
      workflows: config.sequential,
      seconds,
      workflowsPerSecond: config.sequential / seconds,
      latencyMs: summarize(latencies),
    };
  } finally {
    db.close();
    file.remove();
  }
}
