import { type InstanceRow, toInstanceRecord } from "../sqlite/rows.js";
import type { InstancePage, InstanceQuery } from "../store.js";
import type { Database } from "./connection.js";
import type { Tables } from "./instances.js";

/**
 * Instance listing with keyset paging on (created_at, instance_id), as on SQLite: each page
 * is an index range scan however deep it is. The WHERE clause is assembled from fixed
 * fragments for the filters that are set; every value is a parameter.
 */
export function queryOperations(db: Database, t: Tables) {
  return {
    async list(query: InstanceQuery): Promise<InstancePage> {
      const where: string[] = [];
      const values: unknown[] = [];
      const param = (value: unknown): string => {
        values.push(value);
        return `$${values.length}`;
      };
      if (query.runtimeStatus?.length) where.push(`status = ANY(${param(query.runtimeStatus)}::text[])`);
      if (query.name !== undefined) where.push(`name = ${param(query.name)}`);
      if (query.createdFrom !== undefined) where.push(`created_at >= ${param(query.createdFrom)}`);
      if (query.createdTo !== undefined) where.push(`created_at < ${param(query.createdTo)}`);
      if (query.instanceIdPrefix) {
        // The smallest string greater than every string with this prefix ("C" collation: code point order).
        where.push(
          `instance_id >= ${param(query.instanceIdPrefix)} AND instance_id < ${param(`${query.instanceIdPrefix}\u{10ffff}`)}`,
        );
      }
      if (query.after) {
        const created = param(query.after.createdAt);
        where.push(
          `(created_at > ${created} OR (created_at = ${created} AND instance_id > ${param(query.after.instanceId)}))`,
        );
      }
      const text = `SELECT * FROM ${t.instances} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at, instance_id LIMIT ${param(query.limit + 1)}`;
      const { rows } = await db.query<InstanceRow>(text, values);
      const page: InstancePage = { instances: rows.slice(0, query.limit).map(toInstanceRecord) };
      const last = page.instances.at(-1);
      if (rows.length > query.limit && last) page.next = { createdAt: last.createdAt, instanceId: last.instanceId };
      return page;
    },
  };
}
