import { count, fixed, latency } from "../format.js";
import type { LatencySummary } from "../stats.js";
import { markdownTable } from "../table.js";
import { NAMES, TENANTS } from "./fill.js";
import type { ListResult } from "./measure.js";
import { PAGE_SIZE } from "./queries.js";

function cell(l: LatencySummary): string {
  return `${latency(l.median)} / ${latency(l.p99)}`;
}

/** The listing table: each page's median and p99 latency three ways. */
export function listTable(result: ListResult): string {
  const headers = [
    "page (pageSize 100)",
    "matching rows",
    "client.list ms median / p99",
    "store.listInstances ms",
    "raw SQLite ms",
    "client ÷ raw",
  ];
  const body = result.rows.map((r) => [
    r.label,
    `${count(r.matching)} (${r.selects})`,
    cell(r.client),
    cell(r.store),
    cell(r.raw),
    `${fixed(r.client.median / r.raw.median, 1)}×`,
  ]);
  return markdownTable(headers, body, [false, true, true, true, true, true]);
}

/** The "Listing" section of BENCHMARKS.md. */
export function listSection(result: ListResult): string {
  const { filled } = result;
  const statuses = Object.entries(filled.byStatus)
    .map(([status, n]) => `${count(n)} ${status}`)
    .join(", ");
  const names = NAMES.map((n) => `${n.name} ${n.per100}%`).join(", ");
  const plans = result.rows.map((r) => `- ${r.label}: \`${r.rawPlan}\``).join("\n");
  return `## Listing ${count(filled.instances)} instances (\`client.list\`)

${listTable(result)}

- **The store**: a fresh SQLite file filled through the \`Store\` interface only, in
  ${fixed(filled.seconds.create + filled.seconds.statuses, 1)} s: \`createInstances\` in batches of 1,000 (${fixed(filled.seconds.create, 1)} s), then
  \`terminateInstance\` on every 5th instance and \`setSuspended\` on 1 in 100, one
  transaction each (${fixed(filled.seconds.statuses, 1)} s); durability "normal" for the fill, since only its
  speed depends on it. It holds ${statuses}; names ${names}; ids
  \`t042-00abc\` (${TENANTS} tenant prefixes, spread evenly over time); three instances per
  creation millisecond, so the id breaks ties in the order. No worker runs.
- **Measured**: each page ${count(result.iterations)} times (after a warm-up), the three ways interleaved
  in a rotating order; median and p99 (nearest rank) in milliseconds.
  **client.list** is the public call (option checks, the store, the mapping to statuses and
  the continuation token); **store.listInstances** is the store alone; **raw SQLite** reads
  the same page (${PAGE_SIZE + 1} rows, as the store asks for one more to know if a page follows)
  with better-sqlite3 on the same file, by a statement written for that filter alone, so
  SQLite can use the index made for it. Every page was checked to hold the same ${PAGE_SIZE} ids
  all three ways.
- **Deep page**: page ${result.walk.pages + 1} is read with the continuation token that following pages
  1–${result.walk.pages} returned (walking them once took ${latency(result.walk.ms)} ms); the baseline starts after the
  same \`(created_at, instance_id)\` cursor.
- **The store's statement** is one prepared statement for every combination of filters,
  each filter switched off by a NULL parameter. SQLite plans it once, for no particular
  filter: it walks \`instances_by_created\` in creation order and tests every row against the
  filters, so a page costs about as many row reads as it takes to find ${PAGE_SIZE} matching
  rows (few for common statuses, many for rare ones, and everything before the window or
  the cursor). The baselines' plans:

${plans}
`;
}
