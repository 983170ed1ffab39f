import type Database from "better-sqlite3";

/** Ids reserved at a time: one write of `sqlite_sequence` per this many activity tasks. */
const BLOCK_SIZE = 1_000;

/**
 * Hands out activity task ids from blocks reserved in `sqlite_sequence`. The table is
 * AUTOINCREMENT so that an id is never used twice (a late result for a deleted task must not
 * match a new one); but that makes every INSERT rewrite the sequence's page, one WAL page in
 * 3 of the 4 commits of a 3-activity chain. Ids at or below the sequence's value are never
 * given out by SQLite again, so a block reserved there is this store object's alone, even with
 * other processes writing the same file.
 *
 * A block is reserved inside the caller's write transaction: `discard` must be called when that
 * transaction rolls back, since its reservation is rolled back with it.
 */
export class TaskIdAllocator {
  private next = 1;
  private last = 0;
  private readonly reserve: Database.Statement<{ size: number }, { seq: number }>;
  private readonly create: Database.Statement<{ size: number }, { seq: number }>;

  constructor(db: Database.Database) {
    // The sequence may lag the tables' largest id (ids inserted by hand, an old file): start past all.
    const used =
      "MAX((SELECT COALESCE(MAX(id), 0) FROM activity_tasks), (SELECT COALESCE(MAX(id), 0) FROM held_tasks))";
    this.reserve = db.prepare(
      `UPDATE sqlite_sequence SET seq = MAX(seq, ${used}) + @size WHERE name = 'activity_tasks' RETURNING seq`,
    );
    this.create = db.prepare(
      `INSERT INTO sqlite_sequence (name, seq) SELECT 'activity_tasks', ${used} + @size RETURNING seq`,
    );
  }

  /** Makes sure `count` ids can be taken; inside a write transaction, before any savepoint. */
  ensure(count: number): void {
    if (this.last - this.next + 1 >= count) return;
    const size = Math.max(BLOCK_SIZE, count);
    const row = this.reserve.get({ size }) ?? this.create.get({ size });
    if (!row) throw new Error("could not reserve activity task ids");
    this.next = row.seq - size + 1;
    this.last = row.seq;
  }

  /** The next reserved id; `ensure` said there is one. */
  take(): number {
    if (this.next > this.last) throw new Error("no activity task id reserved");
    return this.next++;
  }

  /** Forgets the ids left: the transaction that reserved them may have rolled back. */
  discard(): void {
    this.next = 1;
    this.last = 0;
  }
}
