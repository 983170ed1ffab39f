import Database from "better-sqlite3";
import type { BenchConfig, Durability } from "../config.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";
import { tempDatabase } from "../tempFile.js";
import { countWalFrames, FRAME_COUNT_WORKFLOWS } from "../walFrames.js";

/** Pages past SQLite's default checkpoint threshold (1,000): the WAL has been reset and is reused. */
const WARM_WAL_PAGES = 1_200;

/**
 * The floor of any engine that records each step durably: per workflow, four single-row
 * INSERTs, each its own transaction (the start plus three steps), on a fresh WAL file with
 * the engine's synchronous setting, one workflow at a time.
 *
 * With `tables` > 1, each of the four transactions inserts one row into each of that many
 * tables, and so writes that many pages: set to the pages an engine commit writes, it is
 * what four commits of that size cost on this disk, engine work aside.
 */
export async function rawSqlite(durability: Durability, config: BenchConfig, tables = 1): Promise<Measurement> {
  const file = tempDatabase(`raw-${durability}`);
  const db = new Database(file.file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    const inserts = Array.from({ length: tables }, (_, t) => {
      db.exec(
        `CREATE TABLE steps${t} (id INTEGER PRIMARY KEY, workflow INTEGER NOT NULL, step INTEGER NOT NULL, value TEXT NOT NULL)`,
      );
      return db.prepare(`INSERT INTO steps${t} (workflow, step, value) VALUES (?, ?, ?)`);
    });
    const single = inserts[0] as Database.Statement;
    const commit =
      tables === 1
        ? // Outside an explicit transaction every statement is its own (autocommit) transaction.
          (n: number, step: number) => single.run(n, step, JSON.stringify({ value: n + step }))
        : db.transaction((n: number, step: number) => {
            for (const insert of inserts) insert.run(n, step, JSON.stringify({ value: n + step }));
          });
    const workflow = (n: number): void => {
      for (let step = 0; step < 4; step++) commit(n, step);
    };
    // Warm up past the first checkpoint: until then every commit grows the WAL file, and an
    // fsync that must also record a new file size costs more than one in a WAL being reused
    // (where the engine, which writes more pages, is by the end of its own warm-up).
    const warmup = Math.max(config.warmup, Math.ceil(WARM_WAL_PAGES / (4 * tables)));
    for (let i = 0; i < warmup; i++) workflow(-1 - i);
    const frames = await countWalFrames(file.file, async () => {
      for (let i = 0; i < FRAME_COUNT_WORKFLOWS; i++) workflow(-1_000_000 - i);
    });
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < config.sequential; i++) {
      const t = performance.now();
      workflow(i);
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      kind: tables === 1 ? "raw-sqlite" : "raw-sqlite-paged",
      pagesPerCommit: frames / (FRAME_COUNT_WORKFLOWS * 4),
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
