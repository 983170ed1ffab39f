import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activity,
  createClient,
  createWorker,
  orchestration,
  type Store,
  StoreUnavailableError,
  silentLogger,
} from "../../src/index.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { tempStore } from "../helpers/tempStore.js";

const addOne = activity("addOne", async (n: number) => n + 1);
const chain = orchestration("chain", async (ctx, n: number) =>
  ctx.callActivity(addOne, await ctx.callActivity(addOne, n)),
);

/** A store whose first episode commit lands but reports a lost connection, as a broken reply would. */
function losingFirstCommitReply(store: Store): Store {
  let lose = true;
  return new Proxy<Store>(store, {
    get(target, property) {
      if (property === "commitEpisodes") {
        return async (commits: Parameters<Store["commitEpisodes"]>[0]) => {
          const results = await target.commitEpisodes(commits);
          if (lose) {
            lose = false;
            throw new StoreUnavailableError(store.location, new Error("Connection terminated"));
          }
          return results;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function runThroughLostReply(store: Store): Promise<string | undefined> {
  const worker = createWorker({
    store: losingFirstCommitReply(store),
    orchestrations: [chain],
    activities: [addOne],
    logger: silentLogger,
    handleSignals: false,
    leaseTtlMs: 600_000,
  });
  await worker.start();
  try {
    const client = createClient({ store, pollIntervalMs: 100 });
    const id = await client.start(chain, 1);
    const status = await client.waitForCompletion<number, number>(id, { timeout: 15_000 });
    expect(status.output).toBe(3);
    return status.runtimeStatus;
  } finally {
    await worker.stop();
  }
}

describe("a commit that landed although the store reported an error", () => {
  it("does not strand the activities it leased to the worker (SQLite)", async () => {
    const t = tempStore();
    try {
      expect(await runThroughLostReply(t.store)).toBe("Completed");
    } finally {
      await t.dispose();
    }
  });

  describe("PostgreSQL", () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db?.drop();
    });

    it("does not strand the activities it leased to the worker", async () => {
      const store = await postgresStore({ connectionString: db.url, schema: "ambiguous" });
      try {
        expect(await runThroughLostReply(store)).toBe("Completed");
      } finally {
        await store.close();
      }
    });
  });
});
