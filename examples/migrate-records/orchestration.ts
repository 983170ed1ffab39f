import { type OrchestrationContext, type OrchestrationDefinition, orchestration, type RetryPolicy } from "perdure";
import type { MigrationActivities, MigrationStatus } from "./activities.js";

/** What the migration is started with; a later run must ask for the same. */
export interface MigrationInput {
  records: number;
  batch: number;
}

/** One migration per store file: runs find their predecessor's instance by this id. */
export const MIGRATION_INSTANCE_ID = "migrate-records";

// A stage that fails (a locked file, a full disk) is tried again, after 1 s, 2 s, 4 s, 8 s.
const retry: RetryPolicy = { maxAttempts: 5, firstInterval: "1s" };

/** Stamps a status with the orchestration's own clock: replay gives the same time again. */
const stamp = (ctx: OrchestrationContext, status: MigrationStatus): MigrationStatus => ({
  ...status,
  lastUpdated: ctx.now().toISOString(),
});

/**
 * Function chaining: each batch goes extract → transform → load, and each stage's result
 * is the next stage's input. Every result is recorded in history, so after a crash the
 * orchestration replays to the last recorded stage and goes on from there; only a stage
 * that was in flight runs again.
 */
export function migrateRecordsOrchestration(
  stages: MigrationActivities,
): OrchestrationDefinition<MigrationInput, MigrationStatus> {
  return orchestration("migrateRecords", async (ctx, input: MigrationInput): Promise<MigrationStatus> => {
    let status = stamp(ctx, {
      lastProcessedId: 0,
      processingStatus: "Running",
      processingStage: "start",
      lastUpdated: "",
      batchFrom: 0,
      batchTo: 0,
      batchCount: 0,
      batchSize: input.batch,
      migratedRecords: 0,
      totalRecords: input.records,
    });
    ctx.setCustomStatus(status);
    for (;;) {
      status = stamp(ctx, await ctx.callActivity(stages.extract, status, { retry }));
      if (status.batchCount === 0) break;
      status = stamp(ctx, await ctx.callActivity(stages.transform, status, { retry }));
      status = stamp(ctx, await ctx.callActivity(stages.load, status, { retry }));
      ctx.setCustomStatus(status);
    }
    status = stamp(ctx, { ...status, processingStatus: "Completed", processingStage: "done" });
    ctx.setCustomStatus(status);
    return status;
  });
}
