import Database from "better-sqlite3";
import type { HistoryEvent } from "perdure";

/** What the store wrote for one instance, read straight from the SQLite file. */
export interface InstanceRows {
  leaseOwner: string | null;
  /** Events the history table holds for the instance (a row holds an episode's events). */
  historyEvents: number;
  inbox: HistoryEvent[];
  activityTasks: number;
}

/**
 * Reads the SQLite file with its own read-only connection, bypassing the store: to check
 * what the engine left behind (a released lease, a deleted timer row), not what it reports.
 */
export function readRows(file: string, instanceId: string): InstanceRows {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const owner = db
      .prepare<[string], { lease_owner: string | null }>("SELECT lease_owner FROM instances WHERE instance_id = ?")
      .get(instanceId);
    if (!owner) throw new Error(`readRows: no instance row for ${instanceId}`);
    const count = (table: string): number =>
      db.prepare<[string], number>(`SELECT COUNT(*) FROM ${table} WHERE instance_id = ?`).pluck().get(instanceId) ?? 0;
    const historyEvents =
      db
        .prepare<[string], number>(
          `SELECT TOTAL(json_array_length(events)) FROM history
           WHERE instance = (SELECT id FROM instances WHERE instance_id = ?)`,
        )
        .pluck()
        .get(instanceId) ?? 0;
    const inbox = db
      .prepare<[string], string>("SELECT event FROM inbox WHERE instance_id = ? ORDER BY id")
      .pluck()
      .all(instanceId)
      .map((text) => JSON.parse(text) as HistoryEvent);
    return {
      leaseOwner: owner.lease_owner,
      historyEvents,
      inbox,
      activityTasks: count("activity_tasks"),
    };
  } finally {
    db.close();
  }
}

/** Rows of a whole table, for checks that span instances. */
export function countTable(file: string, table: "instances" | "history" | "inbox" | "activity_tasks"): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], number>(`SELECT COUNT(*) FROM ${table}`).pluck().get() ?? 0;
  } finally {
    db.close();
  }
}
