import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BackupDirectories } from "./activities.js";

/** Bytes in file number i (1-based): i KiB, so n files hold 1024 · n(n+1)/2 bytes in all. */
export const BYTES_PER_FILE_NUMBER = 1024;

/** The folders of the demo site, beside the store file. */
export function siteDirectoriesFor(storeFile: string): BackupDirectories {
  return { sourceDir: `${storeFile}-files/source`, backupDir: `${storeFile}-files/backup` };
}

/**
 * Creates a fresh demo site: `count` files named page-001.html, … whose sizes and contents
 * depend only on their number, and an empty backup folder.
 */
export function createSite(dirs: BackupDirectories, count: number): void {
  rmSync(dirs.sourceDir, { recursive: true, force: true });
  rmSync(dirs.backupDir, { recursive: true, force: true });
  mkdirSync(dirs.sourceDir, { recursive: true });
  mkdirSync(dirs.backupDir, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const name = `page-${String(i).padStart(3, "0")}.html`;
    writeFileSync(join(dirs.sourceDir, name), Buffer.alloc(i * BYTES_PER_FILE_NUMBER, `<p>page ${i}</p>\n`));
  }
}
