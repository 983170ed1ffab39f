import Database from "better-sqlite3";

/**
 * The application's own data, in its own SQLite file beside the Perdure store: the source
 * records to migrate, a staging table the stages work in, the target table, and a load log
 * that makes the load stage exactly-once. Perdure never sees the records themselves; only
 * batch bounds travel through history.
 *
 * The target table has no unique constraint on `source_id` on purpose: a batch loaded twice
 * would show up as duplicates instead of being hidden by the schema.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS source (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS staging (
    source_id    INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    -- Filled by the transform stage, always from the raw columns above, so re-running it
    -- gives the same values.
    display_name TEXT,
    email_domain TEXT,
    amount       REAL,
    transformed  INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS target (
    id           INTEGER PRIMARY KEY,
    source_id    INTEGER NOT NULL,
    display_name TEXT NOT NULL,
    email        TEXT NOT NULL,
    email_domain TEXT NOT NULL,
    amount       REAL NOT NULL,
    migrated_at  INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS target_by_source_id ON target (source_id);
  CREATE TABLE IF NOT EXISTS load_log (
    idempotency_key TEXT PRIMARY KEY,
    batch_from      INTEGER NOT NULL,
    batch_to        INTEGER NOT NULL,
    row_count       INTEGER NOT NULL,
    loaded_at       INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** Rows generated per transaction: a kill loses at most one chunk of generation work. */
const SEED_CHUNK = 50_000;

/** The source rows of one batch: ids in [from, to], `count` of them (0 when none are left). */
export interface BatchBounds {
  from: number;
  to: number;
  count: number;
}

/** What the target table holds. `duplicates` is 0 exactly when no source row was loaded twice. */
export interface TargetCounts {
  targetRows: number;
  duplicates: number;
}

/** The file that holds the application data of the migration whose store is `storeFile`. */
export function recordsFileFor(storeFile: string): string {
  return `${storeFile}-records.sqlite`;
}

export class RecordsDatabase {
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepare>;

  constructor(readonly file: string) {
    this.db = new Database(file, { timeout: 5_000 });
    // App data: a process crash loses nothing in WAL mode with synchronous NORMAL.
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
    this.statements = prepare(this.db);
  }

  /** Number of source rows generated so far (they are generated in id order, 1..n). */
  sourceCount(): number {
    return (this.statements.maxSourceId.get() as number | null) ?? 0;
  }

  /**
   * Generates the source records 1..total that are not there yet, one chunk per
   * transaction, so that a killed run resumes where it stopped. Content depends on the id
   * only, so every run generates the same data.
   */
  seed(total: number, onProgress?: (generated: number) => void): void {
    for (let done = this.sourceCount(); done < total; done = Math.min(total, done + SEED_CHUNK)) {
      this.statements.seedRange.run({ from: done + 1, to: Math.min(total, done + SEED_CHUNK) });
      onProgress?.(Math.min(total, done + SEED_CHUNK));
    }
  }

  /** Extract: copies the next `limit` source rows after `afterId` into staging. Idempotent. */
  extract(afterId: number, limit: number): BatchBounds {
    return this.db
      .transaction((): BatchBounds => {
        const bounds = this.statements.nextBatch.get({ afterId, limit }) as {
          from: number | null;
          to: number | null;
          count: number;
        };
        if (bounds.count === 0 || bounds.from === null || bounds.to === null) {
          return { from: afterId, to: afterId, count: 0 };
        }
        const batch = { from: bounds.from, to: bounds.to, count: bounds.count };
        this.statements.copyToStaging.run(batch);
        return batch;
      })
      .immediate();
  }

  /** Transform: derives the target columns of a batch's staging rows from their raw columns. Idempotent. */
  transform(batch: BatchBounds): number {
    return this.statements.transformStaging.run(batch).changes;
  }

  /**
   * Load: moves a batch's staging rows to the target table and records `idempotencyKey` in
   * the load log, in one transaction. Returns false without touching anything when the key
   * is already logged: that batch was loaded by an earlier attempt.
   */
  load(batch: BatchBounds, idempotencyKey: string, now: number): boolean {
    return this.db
      .transaction((): boolean => {
        if (this.statements.loadLogged.get(idempotencyKey) !== undefined) return false;
        const ready = this.statements.countTransformed.get(batch) as number;
        if (ready !== batch.count) {
          throw new Error(
            `batch ${batch.from}..${batch.to}: ${ready} of ${batch.count} staging rows are transformed; refusing a partial load`,
          );
        }
        this.statements.copyToTarget.run({ ...batch, now });
        this.statements.clearStaging.run(batch);
        this.statements.logLoad.run({ key: idempotencyKey, from: batch.from, to: batch.to, count: batch.count, now });
        return true;
      })
      .immediate();
  }

  counts(): TargetCounts {
    const row = this.statements.targetCounts.get() as { total: number; distinctIds: number };
    return { targetRows: row.total, duplicates: row.total - row.distinctIds };
  }

  close(): void {
    this.db.close();
  }
}

function prepare(db: Database.Database) {
  return {
    maxSourceId: db.prepare("SELECT MAX(id) FROM source").pluck(),
    // A recursive series keeps generation inside SQLite: about a second per million rows.
    seedRange: db.prepare(
      `WITH RECURSIVE ids(id) AS (SELECT @from UNION ALL SELECT id + 1 FROM ids WHERE id < @to)
       INSERT OR IGNORE INTO source (id, name, email, amount_cents)
       SELECT id,
              'customer ' || printf('%07d', id),
              'Customer.' || id || '@' || CASE id % 4 WHEN 0 THEN 'Example.com' WHEN 1 THEN 'example.org'
                                                       WHEN 2 THEN 'Example.net' ELSE 'example.io' END,
              (id * 7919) % 100000
       FROM ids`,
    ),
    nextBatch: db.prepare(
      `SELECT MIN(id) AS "from", MAX(id) AS "to", COUNT(*) AS count
       FROM (SELECT id FROM source WHERE id > @afterId ORDER BY id LIMIT @limit)`,
    ),
    copyToStaging: db.prepare(
      `INSERT OR REPLACE INTO staging (source_id, name, email, amount_cents)
       SELECT id, name, email, amount_cents FROM source WHERE id BETWEEN @from AND @to`,
    ),
    transformStaging: db.prepare(
      `UPDATE staging SET
         display_name = upper(substr(name, 1, 1)) || substr(name, 2),
         email_domain = lower(substr(email, instr(email, '@') + 1)),
         email = lower(email),
         amount = amount_cents / 100.0,
         transformed = 1
       WHERE source_id BETWEEN @from AND @to`,
    ),
    countTransformed: db
      .prepare("SELECT COUNT(*) FROM staging WHERE source_id BETWEEN @from AND @to AND transformed = 1")
      .pluck(),
    copyToTarget: db.prepare(
      `INSERT INTO target (source_id, display_name, email, email_domain, amount, migrated_at)
       SELECT source_id, display_name, email, email_domain, amount, @now
       FROM staging WHERE source_id BETWEEN @from AND @to ORDER BY source_id`,
    ),
    clearStaging: db.prepare("DELETE FROM staging WHERE source_id BETWEEN @from AND @to"),
    loadLogged: db.prepare("SELECT 1 FROM load_log WHERE idempotency_key = ?"),
    logLoad: db.prepare(
      `INSERT INTO load_log (idempotency_key, batch_from, batch_to, row_count, loaded_at)
       VALUES (@key, @from, @to, @count, @now)`,
    ),
    targetCounts: db.prepare("SELECT COUNT(*) AS total, COUNT(DISTINCT source_id) AS distinctIds FROM target"),
  };
}
