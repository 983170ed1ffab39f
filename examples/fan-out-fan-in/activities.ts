import { copyFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { activity } from "perdure";

/** Where the files to back up are, and where the copies go. */
export interface BackupDirectories {
  sourceDir: string;
  backupDir: string;
}

/**
 * Lists the files to back up, sorted by name. It is an activity, not code in the
 * orchestration, because it reads the file system: its result is recorded, so a replay
 * fans out over exactly the same list even if the folder changed in the meantime.
 */
export const getFileList = activity("getFileList", async (sourceDir: string): Promise<string[]> => {
  const entries = await readdir(sourceDir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
});

/**
 * Copies one file into the backup folder and returns its size in bytes. Overwriting the
 * copy makes it idempotent: an attempt that runs again after a crash writes the same bytes.
 */
export const copyFileToBackup = activity(
  "copyFileToBackup",
  async (input: BackupDirectories & { file: string }): Promise<number> => {
    const target = join(input.backupDir, input.file);
    await copyFile(join(input.sourceDir, input.file), target);
    return (await stat(target)).size;
  },
);
