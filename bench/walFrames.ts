import { statSync } from "node:fs";
import Database from "better-sqlite3";

/** Workflows run, untimed, to count the pages a commit writes (engine and raw baselines alike). */
export const FRAME_COUNT_WORKFLOWS = 20;

/** Bytes of one WAL frame: a 24-byte header and a page (the file's page size). */
function frameBytes(db: Database.Database): number {
  return 24 + (db.pragma("page_size", { simple: true }) as number);
}

/**
 * Counts the WAL frames (pages written) while `work` runs on the SQLite file `file`, from
 * the outside: a second connection empties the WAL, then holds a read transaction on the
 * empty WAL, so that no checkpoint can move frames into the database and the writer only
 * appends. The WAL's growth is then exactly what the work wrote. Checkpoints stay off for
 * the duration, so time what `work` does in a separate run, not here.
 */
export async function countWalFrames(file: string, work: () => Promise<void>): Promise<number> {
  const observer = new Database(file);
  try {
    const [result] = observer.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    if (result?.busy) throw new Error(`could not empty the WAL of ${file} to count frames`);
    observer.exec("BEGIN");
    observer.prepare("SELECT count(*) FROM sqlite_schema").get();
    const before = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    await work();
    const after = statSync(`${file}-wal`).size;
    observer.exec("COMMIT");
    // The WAL header (32 bytes) is written with the first frame.
    return (after - Math.max(before, 32)) / frameBytes(observer);
  } finally {
    observer.close();
  }
}
