import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  NotAPerdureDatabaseError,
  type PerdureError,
  SchemaTooNewError,
  StoreUnavailableError,
} from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { loadMigrations } from "../../src/store/postgres/migrate.js";
import type { StoreNotification } from "../../src/store/store.js";
import { createTestDatabase, PG_HOST, type TestDatabase } from "../helpers/postgres.js";
import { LEASE, marker, newInstance, T0, task } from "./contractKit.js";

const TABLES = [
  "activity_tasks",
  "entities",
  "entity_messages",
  "entity_operations",
  "history",
  "inbox",
  "instances",
  "perdure_migrations",
  "queues",
];
/** Every migration this code knows, as a new schema records them. */
const KNOWN = loadMigrations().map((m) => ({ version: m.version, name: m.name }));
const FUTURE = (KNOWN.at(-1)?.version ?? 0) + 1;

let db: TestDatabase;
let schemas = 0;
const open: PostgresStore[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});
afterAll(async () => {
  await db?.drop();
});

function freshSchema(): string {
  schemas++;
  return `pgtest_${schemas}`;
}

async function openStore(schema: string): Promise<PostgresStore> {
  const store = await postgresStore({ connectionString: db.url, schema, poolSize: 3 });
  open.push(store);
  return store;
}

async function tablesOf(schema: string): Promise<string[]> {
  const { rows } = await db.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
    [schema],
  );
  return rows.map((r) => r.table_name as string);
}

async function migrationsOf(schema: string): Promise<{ version: number; name: string }[]> {
  const { rows } = await db.query(`SELECT version, name FROM "${schema}".perdure_migrations ORDER BY version`);
  return rows as { version: number; name: string }[];
}

async function openError(options: Parameters<typeof postgresStore>[0]): Promise<unknown> {
  try {
    open.push(await postgresStore(options));
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Resolves with the first notification that matches, or rejects after `ms`. */
function nextNotification(
  store: PostgresStore,
  matches: (n: StoreNotification) => boolean,
  ms = 10_000,
): Promise<StoreNotification> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error("no matching notification arrived"));
    }, ms);
    const unsubscribe = store.subscribe((n) => {
      if (!matches(n)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(n);
    });
  });
}

describe("PostgreSQL store: schema and connection", () => {
  it("creates its tables in the configured schema and records every migration, from version 1 on", async () => {
    const schema = freshSchema();
    const store = await openStore(schema);
    expect(store.schema).toBe(schema);
    expect(store.location).toContain(`${PG_HOST}:5432/${db.name}`);
    expect(store.location).toContain(schema);
    expect(await tablesOf(schema)).toEqual(TABLES);
    expect(await migrationsOf(schema)).toEqual(KNOWN);
    expect(await tablesOf("public")).toEqual([]);
  });

  it("keeps stores in different schemas of one database apart", async () => {
    const a = await openStore(freshSchema());
    const b = await openStore(freshSchema());
    await a.createInstances([newInstance("only-in-a")]);
    expect((await a.getInstance("only-in-a"))?.runtimeStatus).toBe("Pending");
    expect(await b.getInstance("only-in-a")).toBeUndefined();
    expect(await b.findReadyInstances("w", T0, 10, [])).toEqual([]);
  });

  it("reopening an up-to-date schema changes nothing and keeps the data", async () => {
    const schema = freshSchema();
    const first = await openStore(schema);
    await first.createInstances([newInstance("keep", { input: [1, 2] })]);
    await first.close();
    const second = await openStore(schema);
    expect(second.commitCount).toBe(0);
    expect((await second.getInstance("keep"))?.input).toEqual([1, 2]);
    expect(await migrationsOf(schema)).toEqual(KNOWN);
  });

  it("pools opening one fresh schema at the same moment all succeed, with one schema", async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => postgresStore({ connectionString: db.url, schema, poolSize: 1 })),
    );
    open.push(...stores);
    expect(await migrationsOf(schema)).toEqual(KNOWN);
    expect(await tablesOf(schema)).toEqual(TABLES);
    await stores[0]?.createInstances([newInstance("shared")]);
    for (const store of stores) expect((await store.getInstance("shared"))?.name).toBe("flow");
  });

  it("refuses a schema with a newer version with SCHEMA_TOO_NEW, leaving it untouched", async () => {
    const schema = freshSchema();
    await (await openStore(schema)).close();
    await db.query(`INSERT INTO "${schema}".perdure_migrations (version, name, applied_at) VALUES ($1, 'future', 0)`, [
      FUTURE,
    ]);
    await db.query(`CREATE TABLE "${schema}".future_table (x integer)`);
    const before = await tablesOf(schema);
    const error = await openError({ connectionString: db.url, schema });
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as PerdureError).code).toBe("SCHEMA_TOO_NEW");
    expect(await tablesOf(schema)).toEqual(before);
    expect((await migrationsOf(schema)).map((m) => m.version)).toEqual([...KNOWN.map((m) => m.version), FUTURE]);
  });

  it("refuses a schema that holds other tables with NOT_A_PERDURE_DATABASE, leaving it untouched", async () => {
    const schema = freshSchema();
    await db.query(`CREATE SCHEMA "${schema}"`);
    await db.query(`CREATE TABLE "${schema}".customers (id serial PRIMARY KEY, name text)`);
    await db.query(`INSERT INTO "${schema}".customers (name) VALUES ('Ada')`);
    const error = await openError({ connectionString: db.url, schema });
    expect(error).toBeInstanceOf(NotAPerdureDatabaseError);
    expect((error as PerdureError).code).toBe("NOT_A_PERDURE_DATABASE");
    expect(await tablesOf(schema)).toEqual(["customers"]);
    expect((await db.query(`SELECT name FROM "${schema}".customers`)).rows).toEqual([{ name: "Ada" }]);
  });

  it("reports an unreachable server with STORE_UNAVAILABLE, naming where it tried", async () => {
    const port = await closedPort();
    const error = await openError({ connection: { host: PG_HOST, port, user: "postgres", database: "x" } });
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as PerdureError).code).toBe("STORE_UNAVAILABLE");
    expect((error as StoreUnavailableError).location).toContain(`${PG_HOST}:${port}/x`);
  });

  it("never puts the password in its location", async () => {
    const port = await closedPort();
    const error = await openError({ connectionString: `postgres://app:s3cret@${PG_HOST}:${port}/app` });
    expect((error as PerdureError).code).toBe("STORE_UNAVAILABLE");
    expect((error as StoreUnavailableError).location).not.toContain("s3cret");
  });

  it("refuses bad options with INVALID_ARGUMENT", async () => {
    for (const schema of ["bad-name", 'x"; DROP TABLE y; --', "1abc", "pg_catalog", "", "a".repeat(64)]) {
      expect(await openError({ connectionString: db.url, schema })).toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect(await openError({ connectionString: db.url, poolSize: 0 })).toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("refuses calls on a closed store with STORE_CLOSED", async () => {
    const store = await openStore(freshSchema());
    await store.close();
    await expect(store.getInstance("x")).rejects.toMatchObject({ code: "STORE_CLOSED" });
  });
});

describe("PostgreSQL store: group commit fallback", () => {
  it("an episode the database rejects is refused alone; the others of its batch commit", async () => {
    const store = await openStore(freshSchema());
    await store.createInstances([newInstance("a"), newInstance("b")]);
    const ready = await store.findReadyInstances("w1", T0, 10, []);
    const episode = (instanceId: string, taskName: string) => {
      const r = ready.find((x) => x.instanceId === instanceId);
      return {
        instanceId,
        executionId: r?.executionId as string,
        workerId: "w1",
        leaseToken: r?.leaseToken as number,
        acquireLease: true,
        historyLength: 0,
        newEvents: [marker(T0)],
        consumedMessageIds: [],
        newTasks: [task(1, false, taskName)],
        newTimers: [],
        cancelledTimers: [],
        newInstances: [],
        status: "Running" as const,
        releaseLease: false,
        now: T0,
        leaseExpiresAt: T0 + LEASE,
      };
    };
    // PostgreSQL text cannot hold a NUL character: the database itself refuses this episode.
    const results = await store.commitEpisodes([episode("a", "bad\u0000name"), episode("b", "good")]);
    expect(results[0]).toMatchObject({ ok: false, reason: "error" });
    console.log("DEBUG", results[1]);
    expect(results[1]?.ok).toBe(true);
    expect(await store.getHistory("a")).toEqual([]);
    expect(await store.getHistory("b")).toHaveLength(1);
    expect((await store.claimActivityTasks("w2", T0, T0 + LEASE, 10)).map((t) => t.name)).toEqual(["good"]);
  });

  it("two episodes of one instance in one batch commit in order", async () => {
    const store = await openStore(freshSchema());
    await store.createInstances([newInstance("a")]);
    const [ready] = await store.findReadyInstances("w1", T0, 10, []);
    const base = {
      instanceId: "a",
      executionId: ready?.executionId as string,
      workerId: "w1",
      consumedMessageIds: [],
      newTasks: [],
      newTimers: [],
      cancelledTimers: [],
      newInstances: [],
      status: "Running" as const,
      releaseLease: false,
      now: T0,
      leaseExpiresAt: T0 + LEASE,
    };
    const token = ready?.leaseToken as number;
    const results = await store.commitEpisodes([
      { ...base, leaseToken: token, acquireLease: true, historyLength: 0, newEvents: [marker(T0)] },
      { ...base, leaseToken: token + 1, acquireLease: false, historyLength: 1, newEvents: [marker(T0 + 1)] },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect((await store.getHistory("a")).map((e) => e.timestamp)).toEqual([T0, T0 + 1]);
  });
});

describe("PostgreSQL store: LISTEN/NOTIFY", () => {
  it("wakes a subscriber of another store object when work is created", async () => {
    const schema = freshSchema();
    const writer = await openStore(schema);
    const listener = await openStore(schema);
    const woken = nextNotification(listener, (n) => n.kind === "work");
    await writer.createInstances([newInstance("a")]);
    expect(await woken).toEqual({ kind: "work" });
  });

  it("tells another store object that an instance finished", async () => {
    const schema = freshSchema();
    const writer = await openStore(schema);
    const listener = await openStore(schema);
    await writer.createInstances([newInstance("a")]);
    const finished = nextNotification(listener, (n) => n.kind === "instance-updated");
    expect(await writer.terminateInstance("a", "stop", T0 + 1)).toBe("Pending");
    expect(await finished).toEqual({ kind: "instance-updated", instanceId: "a", status: "Terminated" });
  });

  it("sends nothing for a transaction that rolls back", async () => {
    const schema = freshSchema();
    const writer = await openStore(schema);
    const listener = await openStore(schema);
    const seen: StoreNotification[] = [];
    listener.subscribe((n) => seen.push(n));
    await expect(writer.raiseEvent("nobody", "e", 1, T0)).rejects.toMatchObject({ code: "INSTANCE_NOT_FOUND" });
    // A later notification arrives; the failed call's would have come before it.
    const later = nextNotification(listener, (n) => n.kind === "work");
    await writer.createInstances([newInstance("a")]);
    await later;
    expect(seen).toEqual([{ kind: "work" }]);
  });

  it("reconnects its listening connection after it is cut, and says so with a work notification", async () => {
    const schema = freshSchema();
    const writer = await openStore(schema);
    const listener = await openStore(schema);
    const reconnected = nextNotification(listener, (n) => n.kind === "work");
    const { rows } = await db.query(
      "SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE datname = $1 AND query = $2",
      [db.name, `LISTEN "${schema}"`],
    );
    expect(rows.length).toBe(2);
    await reconnected;
    // And it hears other processes again.
    const woken = nextNotification(listener, (n) => n.kind === "instance-updated");
    await writer.createInstances([newInstance("a")]);
    await writer.terminateInstance("a", "stop", T0);
    expect(await woken).toMatchObject({ instanceId: "a", status: "Terminated" });
  });
});

/** A port on which nothing listens. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, PG_HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
