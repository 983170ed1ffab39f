import Database from "better-sqlite3";
import type { Durability } from "../config.js";
import { summarize } from "../stats.js";
import { tempDatabase } from "../tempFile.js";
import type { Phase, RoundTripResult, SignalsResult } from "./engineScenarios.js";

/** The batch sizes the engine uses: the client's group commit and the worker's batches. */
const SEND_BATCH = 1_000;
const MESSAGES_PER_ENTITY = 1_000;
const ENTITIES_PER_COMMIT = 100;

/** A fresh WAL file with the engine's synchronous setting, and a message queue plus a state table. */
function rawDatabase(durability: Durability, name: string) {
  const file = tempDatabase(`raw-${name}-${durability}`);
  const db = new Database(file.file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.exec(`CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, input TEXT NOT NULL);
    CREATE INDEX messages_by_key ON messages (key, id);
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE replies (id INTEGER PRIMARY KEY AUTOINCREMENT, value TEXT NOT NULL);`);
  return {
    db,
    dispose: () => {
      db.close();
      file.remove();
    },
  };
}

/**
 * The floor under the engine's signal path, written by hand: the same messages inserted in
 * transactions of the client's group-commit size, then applied in the worker's batches (up
 * to 1000 messages per entity, 100 entities per transaction): per batch one read of the
 * messages, one state write, one delete. No leases, no fencing, no JSON validation.
 */
export function rawSignals(durability: Durability, entities: number, perEntity: number): SignalsResult {
  const { db, dispose } = rawDatabase(durability, `signals-${entities}`);
  try {
    const keys = Array.from({ length: entities }, (_, i) => `k${i}`);
    const insert = db.prepare("INSERT INTO messages (key, input) VALUES (?, ?)");
    const messages: string[] = [];
    for (let round = 0; round < perEntity; round++) messages.push(...keys);
    let started = performance.now();
    let commits = 0;
    const insertBatch = db.transaction((batch: string[]) => {
      for (const key of batch) insert.run(key, "1");
    });
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      insertBatch(messages.slice(i, i + SEND_BATCH));
      commits++;
    }
    const send: Phase = { operations: messages.length, seconds: (performance.now() - started) / 1000, commits };

    const due = db.prepare<[number], string>("SELECT DISTINCT key FROM messages LIMIT ?").pluck();
    const read = db.prepare<[string, number], { id: number; input: string }>(
      "SELECT id, input FROM messages WHERE key = ? ORDER BY id LIMIT ?",
    );
    const current = db.prepare<[string], string>("SELECT value FROM state WHERE key = ?").pluck();
    const write = db.prepare(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    const remove = db.prepare("DELETE FROM messages WHERE id = ?");
    started = performance.now();
    commits = 0;
    const applyBatch = db.transaction((batchKeys: string[]) => {
      for (const key of batchKeys) {
        let value = JSON.parse(current.get(key) ?? "0") as number;
        for (const m of read.all(key, MESSAGES_PER_ENTITY)) {
          value += JSON.parse(m.input) as number;
          remove.run(m.id);
        }
        write.run(key, JSON.stringify(value));
      }
    });
    for (;;) {
      const batchKeys = due.all(ENTITIES_PER_COMMIT);
      if (batchKeys.length === 0) break;
      applyBatch(batchKeys);
      commits++;
    }
    const apply: Phase = { operations: messages.length, seconds: (performance.now() - started) / 1000, commits };
    return { send, apply };
  } finally {
    dispose();
  }
}

/** Without batching: one autocommit UPDATE per operation, the cost a naive counter pays per signal. */
export function rawUnbatched(durability: Durability, operations: number): Phase {
  const { db, dispose } = rawDatabase(durability, "unbatched");
  try {
    db.prepare("INSERT INTO state (key, value) VALUES ('k', '0')").run();
    const add = db.prepare("UPDATE state SET value = CAST(value AS INTEGER) + 1 WHERE key = 'k'");
    const started = performance.now();
    for (let i = 0; i < operations; i++) add.run();
    return { operations, seconds: (performance.now() - started) / 1000, commits: operations };
  } finally {
    dispose();
  }
}

/**
 * The floor under one `callEntity` round trip: two transactions, as the engine needs at
 * least (the caller's commit that sends the call, and the entity's commit that applies it
 * and writes the reply), with the reads in between.
 */
export function rawRoundTrip(durability: Durability, calls: number): RoundTripResult {
  const { db, dispose } = rawDatabase(durability, "round-trip");
  try {
    db.prepare("INSERT INTO state (key, value) VALUES ('rt', '0')").run();
    const send = db.prepare("INSERT INTO messages (key, input) VALUES ('rt', '1')");
    const read = db.prepare<[], { id: number; input: string }>(
      "SELECT id, input FROM messages WHERE key = 'rt' ORDER BY id LIMIT 1",
    );
    const current = db.prepare<[], string>("SELECT value FROM state WHERE key = 'rt'").pluck();
    const write = db.prepare("UPDATE state SET value = ? WHERE key = 'rt'");
    const remove = db.prepare("DELETE FROM messages WHERE id = ?");
    const reply = db.prepare("INSERT INTO replies (value) VALUES (?)");
    const take = db.prepare<[], { id: number; value: string }>("SELECT id, value FROM replies ORDER BY id LIMIT 1");
    const consume = db.prepare("DELETE FROM replies WHERE id = ?");
    const caller = db.transaction((previousReply: number | undefined) => {
      if (previousReply !== undefined) consume.run(previousReply);
      send.run();
    });
    const apply = db.transaction(() => {
      const m = read.get();
      if (!m) throw new Error("no message");
      const value = (JSON.parse(current.get() ?? "0") as number) + (JSON.parse(m.input) as number);
      write.run(JSON.stringify(value));
      remove.run(m.id);
      reply.run(JSON.stringify(value));
    });
    const latencies: number[] = [];
    let previous: number | undefined;
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      caller(previous);
      apply();
      previous = take.get()?.id;
      latencies.push(performance.now() - t);
    }
    const meanMs = (performance.now() - started) / calls;
    return { calls, meanMs, latencyMs: summarize(latencies), commitsPerCall: 2 };
  } finally {
    dispose();
  }
}
