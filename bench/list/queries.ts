import type { ListOptions, Store } from "perdure";
import { count } from "../format.js";
import { type FilledStore, NAMES, TENANTS } from "./fill.js";

export type InstanceQuery = Parameters<Store["listInstances"]>[0];

/** Page size of every listing query: `client.list`'s default. */
export const PAGE_SIZE = 100;

/** The pages measured: the same filter through `client.list`, `store.listInstances` and raw SQL. */
export interface ListCase {
  label: string;
  /** What the filter selects, in words ("20% of instances"). */
  selects: string;
  client: ListOptions;
  store: InstanceQuery;
  /**
   * The baseline: the same page by the index made for it, with no engine in between. It
   * asks for one row more than the page, as the store does to know whether a page follows.
   */
  raw: { sql: string; params: unknown[] };
  /** Counts the rows the filter matches (all pages). */
  count: { sql: string; params: unknown[] };
}

const ORDER = `ORDER BY created_at, instance_id LIMIT ${PAGE_SIZE + 1}`;

/** A first page: the filter through the client and the store, and the baseline's WHERE clause. */
function firstPage(
  label: string,
  selects: string,
  filter: { client: ListOptions; store: Omit<InstanceQuery, "limit"> },
  where: string,
  params: unknown[],
): ListCase {
  const clause = where ? `WHERE ${where}` : "";
  return {
    label,
    selects,
    client: { ...filter.client, pageSize: PAGE_SIZE },
    store: { ...filter.store, limit: PAGE_SIZE },
    raw: { sql: `SELECT * FROM instances ${clause} ${ORDER}`, params },
    count: { sql: `SELECT count(*) FROM instances ${clause}`, params },
  };
}

/** The first page of each filter over the filled store. */
export function listCases(filled: FilledStore): ListCase[] {
  const rare = NAMES.at(-1)?.name ?? "bench.audit";
  // A window of 10% of the time range, starting 45% of the way in.
  const span = filled.lastCreatedAt - filled.firstCreatedAt;
  const from = filled.firstCreatedAt + Math.floor(span * 0.45);
  const to = from + Math.floor(span * 0.1);
  const prefix = "t042-";
  return [
    firstPage("first page, unfiltered", "all", { client: {}, store: {} }, "", []),
    firstPage(
      "runtimeStatus Terminated",
      "every 5th",
      { client: { runtimeStatus: "Terminated" }, store: { runtimeStatus: ["Terminated"] } },
      "status = ?",
      ["Terminated"],
    ),
    firstPage(
      "runtimeStatus Suspended",
      "1 in 100",
      { client: { runtimeStatus: "Suspended" }, store: { runtimeStatus: ["Suspended"] } },
      "status = ?",
      ["Suspended"],
    ),
    firstPage(`name ${rare}`, "1 in 100", { client: { name: rare }, store: { name: rare } }, "name = ?", [rare]),
    firstPage(
      "createdFrom/createdTo window",
      "10% of the time range, from 45% in",
      { client: { createdFrom: new Date(from), createdTo: new Date(to) }, store: { createdFrom: from, createdTo: to } },
      "created_at >= ? AND created_at < ?",
      [from, to],
    ),
    // The store's prefix range: from the prefix up to the prefix followed by the highest code point.
    firstPage(
      `instanceIdPrefix ${prefix}`,
      `1 tenant of ${TENANTS}`,
      { client: { instanceIdPrefix: prefix }, store: { instanceIdPrefix: prefix } },
      "instance_id >= ? AND instance_id < ?",
      [prefix, `${prefix}\u{10ffff}`],
    ),
  ];
}

/** The page after `after`, unfiltered: the deep page, once its cursor is known. */
export function deepPageCase(pages: number, after: { createdAt: number; instanceId: string }, token: string): ListCase {
  return {
    label: `page ${pages}, unfiltered (continuation token)`,
    selects: `after the cursor; the page holds rows ${count((pages - 1) * PAGE_SIZE + 1)}–${count(pages * PAGE_SIZE)}`,
    client: { pageSize: PAGE_SIZE, continuationToken: token },
    store: { limit: PAGE_SIZE, after },
    raw: {
      sql: `SELECT * FROM instances WHERE (created_at, instance_id) > (?, ?) ${ORDER}`,
      params: [after.createdAt, after.instanceId],
    },
    count: {
      sql: "SELECT count(*) FROM instances WHERE (created_at, instance_id) > (?, ?)",
      params: [after.createdAt, after.instanceId],
    },
  };
}
