// The CLI on a PostgreSQL store: `--store postgres://…` (and its `schema=` parameter) for
// start, status, list and purge, with a worker in this process on the same database.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorker, silentLogger, type Worker } from "../../src/index.js";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { activities, orchestrations } from "../fixtures/demoApp.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { DEMO_APP, runCli, runJson } from "./runCli.js";

let db: TestDatabase;
let store: PostgresStore;
let worker: Worker;

beforeAll(async () => {
  db = await createTestDatabase();
  store = await postgresStore({ connectionString: db.url });
  worker = createWorker({
    store,
    orchestrations,
    activities,
    logger: silentLogger,
    handleSignals: false,
    pollIntervalMs: 50,
  });
  await worker.start();
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await store?.close();
  await db?.drop();
});

describe("perdure on PostgreSQL", () => {
  it("starts and waits, shows, lists and purges instances", async () => {
    const started = await runJson<{ runtimeStatus: string; output: unknown; instanceId: string }>([
      "start",
      "greet",
      "--app",
      DEMO_APP,
      "--input",
      '"Pg"',
      "--id",
      "pg-1",
      "--wait",
      "--store",
      db.url,
    ]);
    expect(started.code).toBe(0);
    expect(started.json).toMatchObject({ instanceId: "pg-1", runtimeStatus: "Completed", output: "Hello, Pg!" });

    const status = await runJson<{ runtimeStatus: string }>(["status", "pg-1", "--store", db.url]);
    expect(status.json.runtimeStatus).toBe("Completed");
    const list = await runJson<{ instances: { instanceId: string }[] }>(["list", "--store", db.url]);
    expect(list.json.instances.map((i) => i.instanceId)).toEqual(["pg-1"]);
    // Another schema is another store: empty.
    const other = await runJson<{ instances: unknown[] }>(["list", "--store", `${db.url}?schema=perdure_other`]);
    expect(other.code).toBe(0);
    expect(other.json.instances).toEqual([]);

    expect((await runCli(["purge", "pg-1", "--store", db.url])).code).toBe(0);
    const gone = await runCli(["status", "pg-1", "--store", db.url]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error INSTANCE_NOT_FOUND: /);
  });
});
