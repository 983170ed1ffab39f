import type Database from "better-sqlite3";
import type { InstancePage, InstanceQuery } from "../store.js";
import { type InstanceRow, toInstanceRecord } from "./rows.js";

/** The filters a listing can combine; each present one adds its fixed, parameterised fragment. */
const FILTERS = {
  status: "status = @status",
  statuses: "status IN (SELECT value FROM json_each(@statuses))",
  name: "name = @name",
  from: "created_at >= @from",
  to: "created_at < @to",
  prefix: "instance_id >= @prefix AND instance_id < @prefixEnd",
  after: "(created_at, instance_id) > (@afterCreated, @afterId)",
} as const;
type Filter = keyof typeof FILTERS;

/**
 * Instance listing with keyset paging on (created_at, instance_id): each page is an index
 * range scan, however deep the page, so listing stays fast on large stores. The WHERE clause
 * holds the filters present only, one prepared statement per combination (made on first
 * use): SQLite plans each for its filters and picks the index made for them. (One statement
 * with every filter switched off by a NULL parameter was planned for no filter: it walked all
 * instances by creation time and tested each, 3-5x slower for rare statuses, names, a time
 * window or a prefix over 100,000 instances.)
 */
export function queryOperations(db: Database.Database) {
  const statements = new Map<string, Database.Statement<Record<string, unknown>, InstanceRow>>();
  const statementFor = (filters: Filter[]) => {
    const key = filters.join(",");
    let statement = statements.get(key);
    if (!statement) {
      const where = filters.length > 0 ? `WHERE ${filters.map((f) => FILTERS[f]).join(" AND ")}` : "";
      statement = db.prepare(`SELECT * FROM instances ${where} ORDER BY created_at, instance_id LIMIT @limit`);
      statements.set(key, statement);
    }
    return statement;
  };

  return {
    list(query: InstanceQuery): InstancePage {
      const filters: Filter[] = [];
      const params: Record<string, unknown> = { limit: query.limit + 1 };
      const statuses = query.runtimeStatus ?? [];
      if (statuses.length === 1) {
        filters.push("status");
        params.status = statuses[0];
      } else if (statuses.length > 1) {
        filters.push("statuses");
        params.statuses = JSON.stringify(statuses);
      }
      if (query.name !== undefined) {
        filters.push("name");
        params.name = query.name;
      }
      if (query.createdFrom !== undefined) {
        filters.push("from");
        params.from = query.createdFrom;
      }
      if (query.createdTo !== undefined) {
        filters.push("to");
        params.to = query.createdTo;
      }
      if (query.instanceIdPrefix) {
        filters.push("prefix");
        params.prefix = query.instanceIdPrefix;
        // The smallest string greater than every string with this prefix.
        params.prefixEnd = `${query.instanceIdPrefix}\u{10ffff}`;
      }
      if (query.after) {
        filters.push("after");
        params.afterCreated = query.after.createdAt;
        params.afterId = query.after.instanceId;
      }
      const rows = statementFor(filters).all(params);
      const page: InstancePage = { instances: rows.slice(0, query.limit).map(toInstanceRecord) };
      const last = page.instances.at(-1);
      if (rows.length > query.limit && last) page.next = { createdAt: last.createdAt, instanceId: last.instanceId };
      return page;
    },
  };
}
