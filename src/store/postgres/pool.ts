import pg from "pg";
import { storeTypes } from "./connection.js";

/** The store's connection pool, with the listeners that keep a broken connection from crashing the process. */
export function openPool(config: pg.PoolConfig): pg.Pool {
  // Pipelining lets a transaction send its statements without waiting for each answer.
  const pool = new pg.Pool({ ...config, types: storeTypes(), pipeline: true });
  // An idle connection that breaks is dropped by the pool; the next query opens another.
  pool.on("error", () => undefined);
  // pg-pool hands a released connection to the next waiter inside the socket handler that
  // read the last answer, and removes its idle error listener; the waiter attaches its own
  // only after an await. A termination notice in the same TCP read (pg_terminate_backend,
  // a server restart) is emitted in between, with no listener: the process would crash.
  // Every connection keeps this listener; failures still reach queries and transactions.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}
