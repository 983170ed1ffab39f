import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import type { ReadyInstance } from "../../src/store/store.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { contractKit, LEASE, marker, newInstance, T0 } from "./contractKit.js";

// PostgreSQL reserves what competing workers poll with session-level advisory locks, without a
// write (src/store/postgres/reservations.ts). These tests look at the locks themselves, in
// pg_locks: taken for the instances returned only, and never left behind.

let db: TestDatabase;
let schemas = 0;
const stores: PostgresStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  await db?.drop();
});

async function openStore(schema = `reserve_${++schemas}`): Promise<PostgresStore> {
  const store = await postgresStore({ connectionString: db.url, schema, poolSize: 2 });
  stores.push(store);
  return store;
}

const reserve = (store: PostgresStore, workerId: string, now: number, limit = 10, busy: string[] = []) =>
  store.findReadyInstances(workerId, now, limit, busy, undefined, now + LEASE);

/** Which of these instances of the store have their reservation lock taken, by any session. */
async function locked(store: PostgresStore, ids: string[]): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT k.id FROM unnest($2::text[]) AS k(id) WHERE EXISTS (
       SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1 || '/' || k.id, 0))
     ORDER BY k.id`,
    [store.schema, ids],
  );
  return rows.map((r: { id: string }) => r.id);
}

/** Advisory locks held in the test database, by every session. */
async function advisoryLocks(): Promise<number> {
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return (rows[0] as { n: number }).n;
}

/** The first episode of a polled instance as its worker commits it; `historyLength` overridden makes it stale. */
async function firstEpisode(store: PostgresStore, workerId: string, ready: ReadyInstance, historyLength?: number) {
  const kit = contractKit(() => store);
  const [result] = await store.commitEpisodes([
    kit.episode(
      {
        instanceId: ready.instanceId,
        executionId: ready.executionId,
        workerId,
        leaseToken: ready.leaseToken,
        historyLength: historyLength ?? ready.historyLength,
      },
      {
        acquireLease: ready.leased !== true,
        newEvents: [marker(T0), ...ready.messages.map((m) => m.event)],
        consumedMessageIds: ready.messages.map((m) => m.id),
      },
    ),
  ]);
  return result;
}

const ids = (ready: ReadyInstance[]) => ready.map((r) => r.instanceId).sort();

describe("PostgreSQL reservations (advisory locks)", () => {
  it("locks the instances a poll returns and no others; competing pollers skip them and lock the next", async () => {
    const store = await openStore();
    const all = Array.from({ length: 10 }, (_, i) => `i${i}`);
    await store.createInstances(all.map((id) => newInstance(id)));
    const commitsBefore = store.commitCount;
    const first = await reserve(store, "w1", T0, 3);
    expect(first).toHaveLength(3);
    expect(await locked(store, all)).toEqual(ids(first));
    const second = await reserve(store, "w2", T0, 3);
    expect(second).toHaveLength(3);
    expect(ids(second).filter((id) => ids(first).includes(id))).toEqual([]);
    expect(await locked(store, all)).toEqual([...ids(first), ...ids(second)].sort());
    expect(await advisoryLocks()).toBe(6);
    // Nothing was written to reserve them.
    expect(store.commitCount).toBe(commitsBefore);
    for (const ready of first) expect(ready.leased).toBeUndefined();
  });

  it("the first commit releases the lock, landed or refused; releasing and stopping release the rest", async () => {
    const store = await openStore();
    await store.createInstances(["a", "b", "c", "d"].map((id) => newInstance(id)));
    const polled = await reserve(store, "w1", T0, 3);
    const [a, b, c] = polled as [ReadyInstance, ReadyInstance, ReadyInstance];
    const d = ["a", "b", "c", "d"].find((id) => !ids(polled).includes(id)) as string;
    // A second poll by the same worker returns what it holds without locking it twice.
    expect(ids(await reserve(store, "w1", T0))).toEqual(["a", "b", "c", "d"]);
    expect(await advisoryLocks()).toBe(4);
    expect(await firstEpisode(store, "w1", a)).toMatchObject({ ok: true });
    expect(await firstEpisode(store, "w1", b, 7)).toEqual({ ok: false, reason: "lease-lost" });
    // The worker's next poll follows the unlock on its connection.
    await reserve(store, "w1", T0, 10, ["a", "b", "c", "d"]);
    expect(await locked(store, ["a", "b", "c", "d"])).toEqual([c.instanceId, d].sort());
    // Another session can take the released locks (and not the held ones).
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const tryLock = "SELECT pg_try_advisory_lock(hashtextextended($1 || '/' || $2, 0)) AS ok";
      expect((await other.query(tryLock, [store.schema, a.instanceId])).rows[0].ok).toBe(true);
      expect((await other.query(tryLock, [store.schema, b.instanceId])).rows[0].ok).toBe(true);
      expect((await other.query(tryLock, [store.schema, c.instanceId])).rows[0].ok).toBe(false);
    } finally {
      await other.end();
    }
    await store.releaseLeases("w1", [c.instanceId]);
    expect(await locked(store, ["a", "b", "c", "d"])).toEqual([d]);
    await store.releaseLeases("w1");
    expect(await locked(store, ["a", "b", "c", "d"])).toEqual([]);
    // The worker comes back (a new session), then the store closes.
    expect(ids(await reserve(store, "w1", T0))).toContain(d);
    expect(await locked(store, [d])).toEqual([d]);
    await store.close();
    expect(await locked(store, ["a", "b", "c", "d"])).toEqual([]);
  });

  it("a reservation past its term is released before the worker's next poll", async () => {
    const store = await openStore();
    await store.createInstances([newInstance("a")]);
    expect(ids(await reserve(store, "w1", T0))).toEqual(["a"]);
    await reserve(store, "w1", T0 + LEASE - 1, 10, ["a"]);
    expect(await locked(store, ["a"])).toEqual(["a"]);
    await reserve(store, "w1", T0 + LEASE + 1, 10, ["a"]);
    expect(await locked(store, ["a"])).toEqual([]);
  });

  it("an instance that waited longer than a lease term is handed out even though its lock is held", async () => {
    const store = await openStore();
    await store.createInstances([newInstance("a")]);
    const [held] = await reserve(store, "w1", T0);
    // w1 stops answering but its connection lives: its lock stays.
    expect(await reserve(store, "w2", T0 + LEASE / 2)).toEqual([]);
    const [taken] = await reserve(store, "w2", T0 + LEASE + 1);
    expect(taken?.instanceId).toBe("a");
    expect(await advisoryLocks()).toBe(1);
    // Without a lock of its own, w2's first commit decides, fenced, as between lone workers.
    expect(await firstEpisode(store, "w2", taken as ReadyInstance)).toMatchObject({ ok: true });
    expect(await firstEpisode(store, "w1", held as ReadyInstance)).toEqual({ ok: false, reason: "lease-lost" });
    await reserve(store, "w1", T0 + LEASE + 2, 10, ["a"]);
    expect(await advisoryLocks()).toBe(0);
  });

  it("keys include the schema: stores of two schemas reserve instances of the same id apart", async () => {
    const one = await openStore();
    const two = await openStore();
    await one.createInstances([newInstance("a")]);
    await two.createInstances([newInstance("a")]);
    expect(ids(await reserve(one, "w1", T0))).toEqual(["a"]);
    expect(ids(await reserve(two, "w2", T0))).toEqual(["a"]);
    expect(await advisoryLocks()).toBe(2);
  });

  it("a terminated reservation connection loses its locks; the next poll reconnects and reserves again", async () => {
    const store = await openStore();
    await store.createInstances(["a", "b"].map((id) => newInstance(id)));
    expect(ids(await reserve(store, "w1", T0, 1))).toEqual(["a"]);
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    for (let i = 0; i < 200 && (await advisoryLocks()) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await advisoryLocks()).toBe(0);
    // The cut may be noticed by this poll (it fails, as any statement on a cut connection) or before it.
    const again = await reserve(store, "w1", T0 + 1).catch(() => reserve(store, "w1", T0 + 1));
    expect(ids(again)).toEqual(["a", "b"]);
    expect(await locked(store, ["a", "b"])).toEqual(["a", "b"]);
    for (const ready of again) expect(await firstEpisode(store, "w1", ready)).toMatchObject({ ok: true });
    await reserve(store, "w1", T0 + 2, 10, ["a", "b"]);
    expect(await advisoryLocks()).toBe(0);
  });
});
