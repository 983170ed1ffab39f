import type Database from "better-sqlite3";
import type { InstancePage, InstanceQuery } from "../store.js";
import { type InstanceRow, toInstanceRecord } from "./rows.js";

/**
 * Instance listing with keyset paging on (created_at, instance_id): each page is an index
 * range scan, however deep the page, so listing stays fast on large stores. Every filter is
 * a fixed SQL fragment that a NULL parameter switches off — one prepared statement, always
 * parameterised.
 */
export function queryOperations(db: Database.Database) {
  const list = db.prepare<Record<string, unknown>, InstanceRow>(
    `SELECT * FROM instances
     WHERE (@statuses IS NULL OR status IN (SELECT value FROM json_each(@statuses)))
       AND (@name IS NULL OR name = @name)
       AND (@from IS NULL OR created_at >= @from)
       AND (@to IS NULL OR created_at < @to)
       AND (@prefix IS NULL OR (instance_id >= @prefix AND instance_id < @prefixEnd))
       AND (@afterCreated IS NULL OR created_at > @afterCreated
            OR (created_at = @afterCreated AND instance_id > @afterId))
     ORDER BY created_at, instance_id
     LIMIT @limit`,
  );

  return {
    list(query: InstanceQuery): InstancePage {
      const rows = list.all({
        statuses: query.runtimeStatus?.length ? JSON.stringify(query.runtimeStatus) : null,
        name: query.name ?? null,
        from: query.createdFrom ?? null,
        to: query.createdTo ?? null,
        prefix: query.instanceIdPrefix || null,
        // The smallest string greater than every string with this prefix.
        prefixEnd: query.instanceIdPrefix ? `${query.instanceIdPrefix}\u{10ffff}` : null,
        afterCreated: query.after?.createdAt ?? null,
        afterId: query.after?.instanceId ?? null,
        limit: query.limit + 1,
      });
      const page: InstancePage = { instances: rows.slice(0, query.limit).map(toInstanceRecord) };
      const last = page.instances.at(-1);
      if (rows.length > query.limit && last) page.next = { createdAt: last.createdAt, instanceId: last.instanceId };
      return page;
    },
  };
}
