import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { activity } from "perdure";

export interface CleanupRequest {
  dir: string;
  /** Files removed at most per run, so that one run stays short. */
  batch: number;
}

export interface CleanupReport {
  removed: number;
  /** Files still there after this run. */
  remaining: number;
}

/**
 * Removes up to `batch` files from the folder, oldest name first. Removing a file that is
 * already gone is not an error, so a run repeated after a crash is harmless.
 */
export const cleanUp = activity("cleanUp", async (request: CleanupRequest): Promise<CleanupReport> => {
  const files = (await readdir(request.dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
  const doomed = files.slice(0, request.batch);
  await Promise.all(doomed.map((name) => rm(join(request.dir, name), { force: true })));
  return { removed: doomed.length, remaining: files.length - doomed.length };
});
