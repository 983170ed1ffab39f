import { orchestration } from "perdure";
import { type BackupDirectories, copyFileToBackup, getFileList } from "./activities.js";

/** One backup per store file: a run that finds this instance still active resumes it. */
export const BACKUP_INSTANCE_ID = "backup-site-content";

/** What the orchestration returns: the aggregate of the fan-in. */
export interface BackupResult {
  files: number;
  totalBytes: number;
  /** Activity calls made: one getFileList plus one copy per file. */
  activities: number;
}

/**
 * Fan-out/fan-in (Durable Functions' `E2_BackupSiteContent`): get the work list from an
 * activity, start one copy activity per file without awaiting any of them, then wait for
 * all of them with `ctx.all` and add up their results. All copies are scheduled in the same
 * step commit, and the worker runs them in parallel.
 */
export const backupSiteContent = orchestration(
  "backupSiteContent",
  async (ctx, dirs: BackupDirectories): Promise<BackupResult> => {
    const files = await ctx.callActivity(getFileList, dirs.sourceDir);
    ctx.setCustomStatus({ stage: "copying", files: files.length });

    const copies = files.map((file) => ctx.callActivity(copyFileToBackup, { ...dirs, file }));
    const sizes = await ctx.all(copies);

    const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
    ctx.setCustomStatus({ stage: "done", files: files.length });
    return { files: files.length, totalBytes, activities: 1 + copies.length };
  },
);
