import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  activity,
  createClient,
  createWorker,
  InvalidArgumentError,
  orchestration,
  type Store,
  type WorkerOptions,
} from "../../src/index.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import { sqliteStore } from "../../src/store/sqlite/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { queueScenarios } from "./queueScenarios.js";

queueScenarios("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "perdure-queues-"));
  const file = join(dir, "store.db");
  const stores: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = sqliteStore(file, { durability: "normal" });
    stores.push(store);
    return store;
  };
  const client = createClient({ store: await open(), pollIntervalMs: 10 });
  return {
    openStore: open,
    client,
    async dispose() {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let db: TestDatabase | undefined;
let schemas = 0;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

queueScenarios("PostgreSQL", async () => {
  if (!db) throw new Error("the test database was not created");
  const url = db.url;
  schemas++;
  const schema = `queues_${schemas}`;
  const stores: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = await postgresStore({ connectionString: url, schema, poolSize: 4 });
    stores.push(store);
    return store;
  };
  const client = createClient({ store: await open(), pollIntervalMs: 50 });
  return {
    openStore: open,
    client,
    async dispose() {
      for (const store of stores) await store.close();
    },
  };
});

describe("task queues: definitions and worker options", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  const ok = activity("ok", () => 1);
  const flow = orchestration("flow", async () => 1);

  it("refuses bad queue names and unknown options with INVALID_ARGUMENT", () => {
    const bad: (() => unknown)[] = [
      () => activity("a", () => 1, { queue: "" }),
      () => activity("a", () => 1, { queue: "has space" }),
      () => activity("a", () => 1, { queue: "x".repeat(101) }),
      () => activity("a", () => 1, { queue: 7 as unknown as string }),
      () => activity("a", () => 1, { queu: "gpu" } as never),
      () => orchestration("o", async () => 1, { queue: "ü" }),
      () => orchestration("o", async () => 1, { concurrency: 2 } as never),
      () => orchestration("o", async () => 1, "gpu" as never),
    ];
    for (const make of bad) {
      expect(make).toThrow(InvalidArgumentError);
      try {
        make();
      } catch (error) {
        expect((error as InvalidArgumentError).code).toBe("INVALID_ARGUMENT");
      }
    }
    expect(activity("a", () => 1, { queue: "gpu.v2_eu-1" }).queue).toBe("gpu.v2_eu-1");
    expect(orchestration("o", async () => 1, { queue: "x".repeat(100) }).queue).toHaveLength(100);
    expect(activity("a", () => 1).queue).toBe("default");
  });

  it("refuses bad queues, queue limits and concurrency limits with INVALID_ARGUMENT", () => {
    h = createHarness();
    const store = h.store;
    const bad: Partial<WorkerOptions>[] = [
      { queues: [] },
      { queues: ["ok", "not ok"] },
      { queues: "default" as never },
      { queueLimits: { gpu: { concurrency: -1 } } },
      { queueLimits: { gpu: { concurrency: 0 } } },
      { queueLimits: { gpu: { concurrency: 1.5 } } },
      { queueLimits: { gpu: { ratePerSecond: -2 } } },
      { queueLimits: { gpu: { ratePerSecond: Number.POSITIVE_INFINITY } } },
      { queueLimits: { gpu: { burst: 3 } } },
      { queueLimits: { gpu: { ratePerSecond: 1, burst: 0 } } },
      { queueLimits: { gpu: { concurency: 2 } as never } },
      { queueLimits: { gpu: 2 as never } },
      { queueLimits: { "bad name": { concurrency: 1 } } },
      { queueLimits: [] as never },
      { maxConcurrentOrchestrations: 0 },
      { maxConcurrentOrchestrations: -3 },
    ];
    for (const options of bad) {
      expect(() => createWorker({ store, orchestrations: [], activities: [], ...options })).toThrow(
        InvalidArgumentError,
      );
    }
  });

  it("serves the queues of its definitions by default, or the ones it is given", () => {
    h = createHarness();
    const store = h.store;
    const gpu = activity("gpu", () => 1, { queue: "gpu" });
    const web = orchestration("web", async () => 1, { queue: "web" });
    const served = (options: Partial<WorkerOptions>) =>
      createWorker({ store, orchestrations: [], activities: [], ...options }).queues;
    expect(served({})).toEqual(["default"]);
    expect(served({ orchestrations: [flow], activities: [ok] })).toEqual(["default"]);
    expect(served({ orchestrations: [web], activities: [gpu] })).toEqual(["web", "gpu"]);
    expect(served({ orchestrations: [flow, web], activities: [gpu] })).toEqual(["default", "web", "gpu"]);
    expect(served({ orchestrations: [web], activities: [gpu], queues: ["gpu", "gpu"] })).toEqual(["gpu"]);
  });

  it("with maxConcurrentOrchestrations 1, still finishes every instance", async () => {
    h = createHarness();
    const step = activity("step", (n: number) => n + 1);
    const chain = orchestration("chain", async (ctx, n: number) => {
      const a = await ctx.callActivity(step, n);
      return ctx.callActivity(step, a);
    });
    await h.startWorker({ orchestrations: [chain], activities: [step], maxConcurrentOrchestrations: 1 });
    const client = h.client;
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => client.start(chain, i)));
    const statuses = await Promise.all(ids.map((id) => client.waitForCompletion(id, { timeout: 20_000 })));
    expect(statuses.map((s) => s.output)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
