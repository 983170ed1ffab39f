import type { QueueSettings } from "../../definitions/queue.js";
import { type QueueState, tokensAt } from "../queueBudget.js";
import type { Tx } from "./connection.js";
import type { Tables } from "./instances.js";

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
 * The limits of queues, shared by every worker of the schema. Only limited queues have a
 * row. Claims apply them in SQL (claims.ts); this is their configuration.
 */
export function queueOperations(t: Tables) {
  const sql = {
    lock: `SELECT * FROM ${t.queues} WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
    remove: `DELETE FROM ${t.queues} WHERE name = $1`,
    upsert: `INSERT INTO ${t.queues} (name, concurrency, rate_per_second, burst, tokens, refilled_at)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (name) DO UPDATE SET concurrency = excluded.concurrency, rate_per_second = excluded.rate_per_second,
        burst = excluded.burst, tokens = excluded.tokens, refilled_at = excluded.refilled_at`,
    list: `SELECT * FROM ${t.queues} ORDER BY name`,
    limited: `SELECT name FROM ${t.queues} WHERE name = ANY($1::text[])`,
  };

  return {
    /** Replaces each queue's limits; a rate that existed keeps its bucket's level (up to the new burst). */
    async configure(tx: Tx, queues: QueueSettings[], now: number): Promise<void> {
      const names = [...new Set(queues.map((q) => q.name))];
      const { rows } = await tx.query<QueueRow>(sql.lock, [names]);
      const before = new Map(rows.map((r) => [r.name, r]));
      for (const queue of queues) {
        if (queue.concurrency === undefined && queue.ratePerSecond === undefined) {
          await tx.query(sql.remove, [queue.name]);
          continue;
        }
        const row = before.get(queue.name);
        const level = row ? tokensAt(toState(row), now) : undefined;
        const burst = queue.ratePerSecond === undefined ? null : (queue.burst ?? 1);
        await tx.query(sql.upsert, [
          queue.name,
          queue.concurrency ?? null,
          queue.ratePerSecond ?? null,
          burst,
          burst === null ? null : Math.min(burst, level ?? burst),
          burst === null ? null : Math.max(now, row?.refilled_at ?? now),
        ]);
      }
    },

    async list(tx: Tx): Promise<QueueSettings[]> {
      const { rows } = await tx.query<QueueRow>(sql.list);
      return rows.map((row) => {
        const { tokens: _tokens, refilledAt: _refilledAt, ...settings } = toState(row);
        return settings;
      });
    },

    /** The limited queues among `names`. */
    limited(tx: Tx, names: string[]): Promise<{ rows: { name: string }[] }> {
      return tx.query<{ name: string }>(sql.limited, [names]);
    },
  };
}

export type QueueOperations = ReturnType<typeof queueOperations>;
