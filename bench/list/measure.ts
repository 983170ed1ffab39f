import Database from "better-sqlite3";
import { type Client, createClient } from "perdure";
import { type SqliteStore, sqliteStore } from "perdure/sqlite";
import type { BenchConfig } from "../config.js";
import { type LatencySummary, summarize } from "../stats.js";
import { tempDatabase } from "../tempFile.js";
import { type FilledStore, fillStore } from "./fill.js";
import { deepPageCase, type ListCase, listCases, PAGE_SIZE } from "./queries.js";

/** How deep the deep page is: the page reached by following the continuation token. */
export const DEEP_PAGE = 50;

/** One listing query: its latency three ways, and how SQLite ran the baseline. */
export interface ListRow {
  label: string;
  selects: string;
  /** Rows the filter matches, over all pages. */
  matching: number;
  client: LatencySummary;
  store: LatencySummary;
  raw: LatencySummary;
  /** EXPLAIN QUERY PLAN of the baseline statement. */
  rawPlan: string;
}

export interface ListResult {
  filled: FilledStore;
  rows: ListRow[];
  iterations: number;
  /** `client.list` following the token from page 1 to the deep page's predecessor, once. */
  walk: { pages: number; ms: number };
}

type Variant = "client" | "store" | "raw";
const VARIANTS: readonly Variant[] = ["client", "store", "raw"];

/**
 * Fills a fresh store with `config.listInstances` instances, then times each page
 * `config.listIterations` times through `client.list`, through `store.listInstances` (the
 * store alone, no client mapping) and as raw SQL with better-sqlite3 on the same file,
 * interleaved in a rotating order. No worker runs: the store only serves the listing.
 */
export async function listBench(config: BenchConfig, log: (line: string) => void): Promise<ListResult> {
  const db = tempDatabase("list");
  try {
    const filled = await fillStore(db.file, config.listInstances);
    log(
      `  list: filled ${filled.instances} instances in ${(filled.seconds.create + filled.seconds.statuses).toFixed(1)} s ` +
        `(${filled.commits} commits)`,
    );
    const store = sqliteStore(db.file);
    const raw = new Database(db.file, { readonly: true });
    try {
      return await measure(config, filled, store, createClient({ store }), raw);
    } finally {
      raw.close();
      await store.close();
    }
  } finally {
    db.remove();
  }
}

async function measure(
  config: BenchConfig,
  filled: FilledStore,
  store: SqliteStore,
  client: Client,
  raw: Database.Database,
): Promise<ListResult> {
  const walk = await walkTo(client, DEEP_PAGE);
  const cases = [...listCases(filled), deepPageCase(DEEP_PAGE, walk.after, walk.token)];
  const runners = cases.map((c) => {
    const statement = raw.prepare(c.raw.sql);
    const run: Record<Variant, () => Promise<string[]> | string[]> = {
      client: async () => (await client.list(c.client)).instances.map((s) => s.instanceId),
      store: async () => (await store.listInstances(c.store)).instances.map((r) => r.instanceId),
      raw: () =>
        (statement.all(...c.raw.params) as { instance_id: string }[]).slice(0, PAGE_SIZE).map((r) => r.instance_id),
    };
    return { c, run };
  });

  // The three must read the very same page, or the comparison means nothing.
  for (const { c, run } of runners) {
    const [fromClient, fromStore, fromRaw] = [await run.client(), await run.store(), await run.raw()];
    if (
      fromClient.length !== PAGE_SIZE ||
      fromClient.join() !== fromStore.join() ||
      fromClient.join() !== fromRaw.join()
    ) {
      throw new Error(`list "${c.label}": client.list, store.listInstances and raw SQL read different pages`);
    }
  }

  const samples = new Map<string, Record<Variant, number[]>>(
    cases.map((c) => [c.label, { client: [], store: [], raw: [] }]),
  );
  const warmup = Math.max(3, Math.floor(config.listIterations / 20));
  for (let i = 0; i < warmup + config.listIterations; i++) {
    for (const { c, run } of runners) {
      // Rotate which variant goes first, so that none always reads a cache the other warmed.
      const order = [...VARIANTS.slice(i % 3), ...VARIANTS.slice(0, i % 3)];
      for (const variant of order) {
        const t = performance.now();
        await run[variant]();
        const ms = performance.now() - t;
        if (i >= warmup) samples.get(c.label)?.[variant].push(ms);
      }
    }
  }

  const rows = cases.map((c): ListRow => {
    const s = samples.get(c.label) as Record<Variant, number[]>;
    return {
      label: c.label,
      selects: c.selects,
      matching: raw
        .prepare(c.count.sql)
        .pluck()
        .get(...c.count.params) as number,
      client: summarize(s.client),
      store: summarize(s.store),
      raw: summarize(s.raw),
      rawPlan: plan(raw, c),
    };
  });
  return { filled, rows, iterations: config.listIterations, walk: { pages: DEEP_PAGE - 1, ms: walk.ms } };
}

/** Follows the continuation token to the page before `page`; returns the cursor of `page`. */
async function walkTo(
  client: Client,
  page: number,
): Promise<{ token: string; after: { createdAt: number; instanceId: string }; ms: number }> {
  let token: string | undefined;
  let last: { createdAt: number; instanceId: string } | undefined;
  const started = performance.now();
  for (let p = 1; p < page; p++) {
    const result = await client.list(
      token ? { pageSize: PAGE_SIZE, continuationToken: token } : { pageSize: PAGE_SIZE },
    );
    const tail = result.instances.at(-1);
    if (!result.continuationToken || !tail) throw new Error(`list: page ${p} is the last; fill more instances`);
    token = result.continuationToken;
    last = { createdAt: tail.createdAt.getTime(), instanceId: tail.instanceId };
  }
  if (!token || !last) throw new Error("list: the deep page must be page 2 or later");
  return { token, after: last, ms: performance.now() - started };
}

function plan(raw: Database.Database, c: ListCase): string {
  const steps = raw.prepare(`EXPLAIN QUERY PLAN ${c.raw.sql}`).all(...c.raw.params) as { detail: string }[];
  return steps.map((s) => s.detail).join("; ");
}
