import { type ActivityDefinition, activity } from "perdure";
import type { BatchBounds, RecordsDatabase } from "./recordsDatabase.js";

/**
 * The status object handed from activity to activity, and published as the instance's
 * custom status after each batch. Only ids and counts: the records stay in the records
 * database, so history grows by a few hundred bytes per stage, not by the batch.
 */
export interface MigrationStatus {
  /** Highest source id that is in the target table. */
  lastProcessedId: number;
  processingStatus: "Running" | "Completed";
  /** The stage that produced this status ("done" once every batch is loaded). */
  processingStage: "start" | "extract" | "transform" | "load" | "done";
  /** When the orchestration last advanced, from `ctx.now()` (ISO 8601). */
  lastUpdated: string;
  /** The current batch: source ids in [batchFrom, batchTo], batchCount of them. */
  batchFrom: number;
  batchTo: number;
  batchCount: number;
  /** Rows per batch, as asked for. */
  batchSize: number;
  migratedRecords: number;
  totalRecords: number;
}

/** The three stages of one batch. */
export interface MigrationActivities {
  extract: ActivityDefinition<MigrationStatus, MigrationStatus>;
  transform: ActivityDefinition<MigrationStatus, MigrationStatus>;
  load: ActivityDefinition<MigrationStatus, MigrationStatus>;
}

const boundsOf = (status: MigrationStatus): BatchBounds => ({
  from: status.batchFrom,
  to: status.batchTo,
  count: status.batchCount,
});

/**
 * The stage activities, bound to the records database (`records()` returns it; main opens it
 * only after the instance is durable, while the definitions are needed before). Each is idempotent, because an
 * activity that was running when the process died runs again:
 * - extract upserts staging rows keyed by source id;
 * - transform derives its columns from raw columns it never changes;
 * - load moves rows and logs `ctx.idempotencyKey` in one transaction, and does nothing
 *   when the key is already logged.
 */
export function migrationActivities(records: () => RecordsDatabase): MigrationActivities {
  const extract = activity("extract", (status: MigrationStatus): MigrationStatus => {
    const batch = records().extract(status.lastProcessedId, status.batchSize);
    return { ...status, processingStage: "extract", batchFrom: batch.from, batchTo: batch.to, batchCount: batch.count };
  });

  const transform = activity("transform", (status: MigrationStatus): MigrationStatus => {
    const rows = records().transform(boundsOf(status));
    if (rows !== status.batchCount) {
      throw new Error(
        `transform: expected ${status.batchCount} staging rows for ids ${status.batchFrom}..${status.batchTo}, found ${rows}`,
      );
    }
    return { ...status, processingStage: "transform" };
  });

  const load = activity("load", (status: MigrationStatus, ctx): MigrationStatus => {
    // Real time is fine here: it is data of the target rows, not orchestration state.
    records().load(boundsOf(status), ctx.idempotencyKey, Date.now());
    return {
      ...status,
      processingStage: "load",
      lastProcessedId: status.batchTo,
      migratedRecords: status.migratedRecords + status.batchCount,
    };
  });

  return { extract, transform, load };
}
