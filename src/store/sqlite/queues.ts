import type Database from "better-sqlite3";
import type { QueueSettings } from "../../definitions/queue.js";
import type { QueueState } from "../queueBudget.js";
import { tokensAt } from "../queueBudget.js";

interface QueueRow {
  name: string;
  concurrency: number | null;
  rate_per_second: number | null;
  burst: number | null;
  tokens: number | null;
  refilled_at: number | null;
}

function toState(row: QueueRow): QueueState {
  const state: QueueState = { name: row.name };
  if (row.concurrency !== null) state.concurrency = row.concurrency;
  if (row.rate_per_second !== null) state.ratePerSecond = row.rate_per_second;
  if (row.burst !== null) state.burst = row.burst;
  if (row.tokens !== null) state.tokens = row.tokens;
  if (row.refilled_at !== null) state.refilledAt = row.refilled_at;
  return state;
}

/**
 * The limits of queues, shared by every worker of the file. Only limited queues have a row;
 * every operation runs inside the caller's transaction, and SQLite's single writer makes a
 * claim's read-count-spend sequence atomic.
 */
export function queueOperations(db: Database.Database) {
  const select = db.prepare<[string], QueueRow>("SELECT * FROM queues WHERE name = ?");
  const selectAll = db.prepare<[], QueueRow>("SELECT * FROM queues ORDER BY name");
  const selectSome = db.prepare<[string], QueueRow>(
    "SELECT * FROM queues WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name",
  );
  const remove = db.prepare("DELETE FROM queues WHERE name = ?");
  const upsert = db.prepare(
    `INSERT INTO queues (name, concurrency, rate_per_second, burst, tokens, refilled_at)
     VALUES (@name, @concurrency, @rate, @burst, @tokens, @refilledAt)
     ON CONFLICT (name) DO UPDATE SET concurrency = excluded.concurrency, rate_per_second = excluded.rate_per_second,
       burst = excluded.burst, tokens = excluded.tokens, refilled_at = excluded.refilled_at`,
  );
  const spend = db.prepare(
    "UPDATE queues SET tokens = ?, refilled_at = MAX(COALESCE(refilled_at, ?), ?) WHERE name = ?",
  );

  return {
    /** Replaces each queue's limits; a rate that existed keeps its bucket's level (up to the new burst). */
    configure(queues: QueueSettings[], now: number): void {
      for (const queue of queues) {
        if (queue.concurrency === undefined && queue.ratePerSecond === undefined) {
          remove.run(queue.name);
          continue;
        }
        const before = select.get(queue.name);
        const level = before ? tokensAt(toState(before), now) : undefined;
        const burst = queue.ratePerSecond === undefined ? null : (queue.burst ?? 1);
        upsert.run({
          name: queue.name,
          concurrency: queue.concurrency ?? null,
          rate: queue.ratePerSecond ?? null,
          burst,
          tokens: burst === null ? null : Math.min(burst, level ?? burst),
          refilledAt: burst === null ? null : Math.max(now, before?.refilled_at ?? now),
        });
      }
    },

    list(): QueueSettings[] {
      return selectAll.all().map((row) => {
        const { tokens: _tokens, refilledAt: _refilledAt, ...settings } = toState(row);
        return settings;
      });
    },

    /** The limited queues among `names`, by name. */
    limited(names: string[]): Map<string, QueueState> {
      const rows = names.length === 1 ? [select.get(names[0] as string)] : selectSome.all(JSON.stringify(names));
      return new Map(rows.filter((r) => r !== undefined).map((r) => [r.name, toState(r)]));
    },

    /** Takes `taken` tokens from a queue's bucket as it is at `now`. */
    spend(queue: QueueState, taken: number, now: number): void {
      const tokens = tokensAt(queue, now);
      if (tokens === undefined || taken === 0) return;
      spend.run(tokens - taken, now, now, queue.name);
    },
  };
}

export type QueueOperations = ReturnType<typeof queueOperations>;
