import pg from "pg";
import { drive } from "./drive.js";
import type { Target } from "./target.js";

/**
 * The floor of any engine that records each step durably in PostgreSQL: per workflow, four
 * single-row INSERTs, each its own (autocommit) transaction, one after the other, through a
 * `pg` pool of the store's default size. With many workflows in flight, the server's own
 * group commit lets concurrent commits share an fsync.
 */
export async function rawPgTarget(url: string, schema: string): Promise<Target> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on("error", () => undefined);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.steps (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      workflow integer NOT NULL, step integer NOT NULL, value text NOT NULL)`,
  );
  const insert = {
    name: "raw_insert",
    text: `INSERT INTO ${schema}.steps (workflow, step, value) VALUES ($1, $2, $3)`,
  };
  const runOne = async (n: number): Promise<void> => {
    for (let step = 0; step < 4; step++) {
      await pool.query({ ...insert, values: [n, step, JSON.stringify({ value: n + step })] });
    }
  };
  return {
    drive: (inFlight, total, firstInput) => drive(runOne, inFlight, total, firstInput),
    close: () => pool.end(),
  };
}
