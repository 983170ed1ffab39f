import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entity, orchestration, type PerdureError } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";

const sensor = entity("sensor", {
  initialState: { count: 0, sum: 0 },
  operations: {
    record(s, value: number) {
      s.count += 1;
      s.sum += value;
    },
    clear: (_s, _input: undefined, ctx) => ctx.deleteState(),
  },
});

const clock = manualClock();
let h: Harness;
beforeEach(() => {
  clock.set(Date.UTC(2030, 0, 1));
  h = createHarness({ clock: clock.now });
});
afterEach(async () => {
  await h.dispose();
});

const statusOf = async (key: string) => (await h.client.getEntity(sensor, key)).state;

describe("entities from the client", () => {
  it("getEntity: a never-touched entity does not exist; with the definition it reports the initial state", async () => {
    expect(await h.client.getEntity(sensor, "new")).toEqual({
      name: "sensor",
      key: "new",
      exists: false,
      state: { count: 0, sum: 0 },
    });
    expect(await h.client.getEntity("sensor", "new")).toEqual({
      name: "sensor",
      key: "new",
      exists: false,
      state: undefined,
    });
  });

  it("getEntity reports state and the time of the last change", async () => {
    await h.startWorker({ entities: [sensor] });
    await h.client.signalEntity(sensor, "t1", "record", 20);
    await waitFor(async () => (await statusOf("t1"))?.count === 1, "the signal");
    const status = await h.client.getEntity("sensor", "t1");
    expect(status).toEqual({
      name: "sensor",
      key: "t1",
      exists: true,
      state: { count: 1, sum: 20 },
      lastModified: new Date(clock.now()),
    });
  });

  it("signalEntity with `at` delivers no earlier than then", async () => {
    await h.startWorker({ entities: [sensor] });
    await h.client.signalEntity(sensor, "later", "record", 5, { at: new Date(clock.now() + 3_600_000) });
    await h.client.signalEntity(sensor, "later", "record", 1);
    await waitFor(async () => (await statusOf("later"))?.count === 1, "the immediate signal");
    expect(await statusOf("later")).toEqual({ count: 1, sum: 1 });
    clock.advance(3_600_000);
    await waitFor(async () => (await statusOf("later"))?.count === 2, "the scheduled signal");
    expect(await statusOf("later")).toEqual({ count: 2, sum: 6 });
  });

  it("a signal to an entity no worker registers is stored, and applied once a worker with it starts", async () => {
    const other = await h.startWorker({ entities: [] });
    await h.client.signalEntity("sensor", "waiting", "record", 3);
    expect(await h.client.getEntity("sensor", "waiting")).toMatchObject({ exists: false });
    await other.stop();
    await h.startWorker({ entities: [sensor] });
    await waitFor(async () => (await statusOf("waiting"))?.sum === 3, "the stored signal");
  });

  it("listEntities pages through entities with state, by name and key, with filters", async () => {
    const plain = entity("plain", {
      initialState: null as string | null,
      operations: { touch: (_s, v: string, ctx) => ctx.setState(v) },
    });
    await h.startWorker({ entities: [sensor, plain] });
    const keys = ["a1", "a2", "b1", "b2", "b3"];
    for (const key of keys) await h.client.signalEntity(sensor, key, "record", 1);
    await h.client.signalEntity(plain, "a1", "touch", "x");
    await h.client.signalEntity(sensor, "gone", "record", 1);
    await h.client.signalEntity(sensor, "gone", "clear");
    await waitFor(async () => (await h.client.listEntities({ pageSize: 100 })).entities.length === 6, "six entities");
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await h.client.listEntities({ pageSize: 2, ...(token ? { continuationToken: token } : {}) });
      expect(page.entities.length).toBeLessThanOrEqual(2);
      seen.push(...page.entities.map((e) => `${e.name}@${e.key}`));
      token = page.continuationToken;
    } while (token);
    expect(seen).toEqual(["plain@a1", ...keys.map((k) => `sensor@${k}`)]);
    const bees = await h.client.listEntities({ name: sensor, keyPrefix: "b" });
    expect(bees.entities.map((e) => e.key)).toEqual(["b1", "b2", "b3"]);
    expect(bees.entities[0]).toMatchObject({ exists: true, state: { count: 1, sum: 1 } });
    expect((await h.client.listEntities({ name: "sensor", includeEmpty: true })).entities.map((e) => e.key)).toContain(
      "gone",
    );
    const bad = await h.client.listEntities({ continuationToken: "not-a-token" }).catch((e: PerdureError) => e.code);
    expect(bad).toBe("INVALID_ARGUMENT");
    const size = await h.client.listEntities({ pageSize: 0 }).catch((e: PerdureError) => e.code);
    expect(size).toBe("INVALID_ARGUMENT");
  });

  it("cleanEntityStorage drops emptied entities and releases locks of orchestrations that ended", async () => {
    const holder = orchestration("holder", async (ctx) => {
      await ctx.lockEntities([sensor, "locked"]);
      await ctx.waitForEvent("never");
    });
    await h.startWorker({ orchestrations: [holder], entities: [sensor] });
    await h.client.signalEntity(sensor, "kept", "record", 1);
    await h.client.signalEntity(sensor, "emptied", "record", 1);
    await h.client.signalEntity(sensor, "emptied", "clear");
    const id = await h.client.start(holder, undefined);
    await waitFor(async () => (await h.client.getEntity(sensor, "locked")).lockedBy === id, "the lock");
    await waitFor(async () => (await statusOf("kept"))?.count === 1, "kept");
    await waitFor(
      async () =>
        (await h.client.getEntity(sensor, "emptied")).exists === false &&
        (await h.store.getEntity("sensor", "emptied"))?.lastModified !== undefined,
      "emptied",
    );
    // Leases of the batches above run out; the lock's owner is still running.
    clock.advance(60_000);
    expect(await h.client.cleanEntityStorage()).toEqual({ emptyEntitiesRemoved: 1, orphanedLocksReleased: 0 });
    expect(await h.store.getEntity("sensor", "emptied")).toBeUndefined();
    expect((await h.client.getEntity(sensor, "locked")).lockedBy).toBe(id);
    expect(await statusOf("kept")).toEqual({ count: 1, sum: 1 });
  });
});
