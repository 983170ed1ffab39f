import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  activity,
  type Client,
  createClient,
  createWorker,
  entity,
  type HistoryEvent,
  orchestration,
  type PerdureError,
  silentLogger,
  type Worker,
} from "../../src/index.js";
import { postgresStore } from "../../src/store/postgres/index.js";
import type { Store } from "../../src/store/store.js";
import { type Gate, gate } from "../helpers/gate.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { tempStore } from "../helpers/tempStore.js";
import { waitFor } from "../helpers/waitFor.js";

/** What the definitions below read: reset before each test. */
let activityBroken = true;
let operationBroken = true;
let activityDoor: Gate = gate();
let operationDoor: Gate = gate();

const account = entity("rw.account", {
  initialState: { balance: 100 },
  operations: {
    balance: (s) => s.balance,
    set(s, balance: number) {
      s.balance = balance;
    },
  },
});

const meter = entity("rw.meter", {
  initialState: { total: 0 },
  operations: {
    add(s, n: number) {
      s.total += n;
      return s.total;
    },
    risky(s, n: number) {
      if (operationBroken) throw new Error("the meter is broken");
      s.total += n;
      return s.total;
    },
    async slow(s, n: number) {
      await operationDoor.wait();
      s.total += n;
      return s.total;
    },
  },
});

/** Fails while `activityBroken`; then waits at `activityDoor`. */
const flaky = activity("rw.flaky", async (n: number) => {
  if (activityBroken) throw new Error("flaky is broken");
  await activityDoor.wait();
  return n;
});

/** A read-modify-write under a lock, with the failing activity in the middle of it. */
const section = orchestration("rw.section", async (ctx, key: string) => {
  const lock = await ctx.lockEntities([account, key]);
  const before = await ctx.callEntity(account, key, "balance");
  await ctx.callActivity(flaky, before);
  await ctx.callEntity(account, key, "set", before + 1);
  lock.release();
  return before;
});

/** The same read-modify-write without the activity: a lost update shows if two overlap. */
const bump = orchestration("rw.bump", async (ctx, key: string) => {
  const lock = await ctx.lockEntities([account, key]);
  const before = await ctx.callEntity(account, key, "balance");
  await ctx.callEntity(account, key, "set", before + 1);
  lock.release();
  return before;
});

const holder = orchestration("rw.holder", async (ctx, key: string) => {
  const lock = await ctx.lockEntities([account, key]);
  await ctx.waitForEvent("done");
  lock.release();
});

/** Asks for the lock and runs the activity at once: the activity fails while the lock is awaited. */
const eager = orchestration("rw.eager", async (ctx, key: string) => {
  const [lock, n] = await Promise.all([ctx.lockEntities([account, key]), ctx.callActivity(flaky, 7)]);
  const balance = await ctx.callEntity(account, key, "balance");
  lock.release();
  return balance + n;
});

const metered = orchestration("rw.metered", async (ctx, n: number) => ctx.callEntity(meter, "risky", "risky", n));

/** The entity call is still pending when the activity fails the instance. */
const pendingCall = orchestration("rw.pending", async (ctx, key: string) => {
  const [total] = await Promise.all([ctx.callEntity(meter, key, "slow", 2), ctx.callActivity(flaky, 1)]);
  return total;
});

const signaller = orchestration("rw.signaller", async (ctx) => {
  ctx.signalEntity(meter, "signals", "add", 1);
  await ctx.callActivity(flaky, 1);
  ctx.signalEntity(meter, "signals", "add", 10);
  return "done";
});

/** Signals after the activity's failure was recorded, and only then awaits it. */
const lateSignal = orchestration("rw.late", async (ctx) => {
  const failing = ctx.callActivity(flaky, 1);
  await ctx.waitForEvent("go");
  ctx.signalEntity(meter, "late", "add", 1);
  await ctx.waitForEvent("go2");
  return await failing;
});

let pg: TestDatabase | undefined;
let schemas = 0;
beforeAll(async () => {
  pg = await createTestDatabase();
});
afterAll(async () => {
  await pg?.drop();
});

const backends: Record<string, () => Promise<{ store: Store; close: () => Promise<void> }>> = {
  sqlite: async () => {
    const temp = tempStore();
    return { store: temp.store, close: temp.dispose };
  },
  postgres: async () => {
    const store = await postgresStore({ connectionString: pg?.url ?? "", schema: `rewind_${++schemas}`, poolSize: 4 });
    return { store, close: () => store.close() };
  },
};

describe.each(Object.keys(backends))("rewinding orchestrations that use entities (%s)", (backend) => {
  let client: Client;
  let worker: Worker | undefined;
  let close: () => Promise<void> = async () => undefined;

  const start = async () => {
    activityBroken = true;
    operationBroken = true;
    activityDoor = gate();
    operationDoor = gate();
    const opened = await (backends[backend] as () => Promise<{ store: Store; close: () => Promise<void> }>)();
    close = opened.close;
    worker = createWorker({
      store: opened.store,
      orchestrations: [section, bump, holder, eager, metered, pendingCall, signaller, lateSignal],
      activities: [flaky],
      entities: [account, meter],
      logger: silentLogger,
      handleSignals: false,
      pollIntervalMs: 10,
      shutdownTimeoutMs: 2_000,
    });
    await worker.start();
    client = createClient({ store: opened.store, pollIntervalMs: 10 });
  };

  afterEach(async () => {
    activityDoor.open();
    operationDoor.open();
    await worker?.stop();
    worker = undefined;
    await close();
  });

  const failed = async (id: string, code: string) => {
    const status = await client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe(code);
  };
  const completed = async (id: string) => {
    const status = await client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Completed");
    return status.output;
  };
  const hasEvent = (id: string, type: HistoryEvent["type"]) =>
    waitFor(async () => (await client.getHistory(id)).some((e) => e.type === type), `${type} in ${id}`);
  const refusal = async (id: string) => {
    const error = (await client.rewind(id).catch((e: unknown) => e)) as PerdureError;
    expect(error.code).toBe("REWIND_NOT_POSSIBLE");
    expect(error.instanceId).toBe(id);
    return error;
  };

  it("takes a critical section's lock again: the section finishes with no one else inside it", async () => {
    await start();
    await client.start(section, "k", { instanceId: "section" });
    await failed("section", "ACTIVITY_FAILED");
    // The failure let go of the lock, as it always does.
    expect((await client.getEntity(account, "k")).lockedBy).toBeUndefined();

    activityBroken = false;
    await client.rewind("section");
    // Taken again by the rewind itself, before any other section can ask for it.
    expect((await client.getEntity(account, "k")).lockedBy).toBe("section");
    const others = await Promise.all(["b1", "b2", "b3"].map((id) => client.start(bump, "k", { instanceId: id })));
    for (const id of others) await hasEvent(id, "EntityLockRequested");
    await waitFor(async () => activityDoor.arrivals > 0, "the activity running again");
    expect(await client.getEntity(account, "k")).toMatchObject({ lockedBy: "section", state: { balance: 100 } });

    activityDoor.open();
    const outputs = [await completed("section")];
    for (const id of others) outputs.push(await completed(id));
    // One after another: each section saw the balance the previous one left, none was lost.
    expect(outputs[0]).toBe(100);
    expect([...outputs].sort()).toEqual([100, 101, 102, 103]);
    expect(await client.getEntity(account, "k")).toMatchObject({ state: { balance: 104 } });
    expect((await client.getEntity(account, "k")).lockedBy).toBeUndefined();
  });

  it("refuses, changing nothing, while another orchestration holds the section's entity; then rewinds", async () => {
    await start();
    await client.start(section, "held", { instanceId: "section" });
    await failed("section", "ACTIVITY_FAILED");
    await client.start(holder, "held", { instanceId: "holder" });
    await waitFor(async () => (await client.getEntity(account, "held")).lockedBy === "holder", "the holder's lock");
    const before = await client.getHistory("section");

    const error = await refusal("section");
    expect(error.message).toContain("holder");
    expect((await client.getStatus("section"))?.runtimeStatus).toBe("Failed");
    expect(await client.getHistory("section")).toEqual(before);
    expect((await client.getEntity(account, "held")).lockedBy).toBe("holder");

    await client.raiseEvent("holder", "done");
    await completed("holder");
    activityBroken = false;
    activityDoor.open();
    await client.rewind("section");
    expect(await completed("section")).toBe(100);
    expect(await client.getEntity(account, "held")).toMatchObject({ state: { balance: 101 } });
  });

  it("asks again for a lock that was still awaited when the instance failed", async () => {
    await start();
    await client.start(holder, "wait", { instanceId: "holder" });
    await waitFor(async () => (await client.getEntity(account, "wait")).lockedBy === "holder", "the holder's lock");
    await client.start(eager, "wait", { instanceId: "eager" });
    await failed("eager", "ACTIVITY_FAILED");

    activityBroken = false;
    activityDoor.open();
    await client.rewind("eager");
    await client.raiseEvent("holder", "done");
    expect(await completed("eager")).toBe(107);
    expect((await client.getEntity(account, "wait")).lockedBy).toBeUndefined();
  });

  it("sends a failed entity call again and delivers its answer", async () => {
    await start();
    await client.start(metered, 5, { instanceId: "metered" });
    await failed("metered", "ENTITY_OPERATION_FAILED");
    expect((await client.getEntity(meter, "risky")).state).toEqual({ total: 0 });

    operationBroken = false;
    await client.rewind("metered");
    expect(await completed("metered")).toBe(5);
    expect((await client.getEntity(meter, "risky")).state).toEqual({ total: 5 });
  });

  it("delivers the answer of a call that was still queued when the instance failed, applied once", async () => {
    await start();
    await client.start(pendingCall, "queued", { instanceId: "pending" });
    await failed("pending", "ACTIVITY_FAILED");

    activityBroken = false;
    activityDoor.open();
    await client.rewind("pending");
    operationDoor.open();
    expect(await completed("pending")).toBe(2);
    expect((await client.getEntity(meter, "queued")).state).toEqual({ total: 2 });
  });

  it("refuses when a pending call was applied while the instance was failed (its answer is gone)", async () => {
    await start();
    await client.start(pendingCall, "lost", { instanceId: "pending" });
    await failed("pending", "ACTIVITY_FAILED");
    operationDoor.open();
    await waitFor(async () => (await client.getEntity(meter, "lost")).state?.total === 2, "the call applied");

    const error = await refusal("pending");
    expect(error.step).toBe(1);
    expect((await client.getStatus("pending"))?.runtimeStatus).toBe("Failed");
    expect((await client.getEntity(meter, "lost")).state).toEqual({ total: 2 });
  });

  it("never sends again a signal sent before the cut", async () => {
    await start();
    await client.start(signaller, undefined, { instanceId: "signaller" });
    await failed("signaller", "ACTIVITY_FAILED");
    await waitFor(async () => (await client.getEntity(meter, "signals")).state?.total === 1, "the first signal");

    activityBroken = false;
    activityDoor.open();
    await client.rewind("signaller");
    expect(await completed("signaller")).toBe("done");
    // A client signal sent now is applied after everything the orchestration sent.
    await client.signalEntity(meter, "signals", "add", 100);
    const state = await waitFor(async () => {
      const s = (await client.getEntity(meter, "signals")).state;
      return s && s.total >= 100 ? s : undefined;
    }, "the client's signal");
    expect(state).toEqual({ total: 111 });
  });

  it("refuses when a signal was sent after the point where history must be cut", async () => {
    await start();
    await client.start(lateSignal, undefined, { instanceId: "late" });
    await hasEvent("late", "TaskFailed");
    await client.raiseEvent("late", "go");
    await hasEvent("late", "EntitySignalSent");
    await client.raiseEvent("late", "go2");
    await failed("late", "ACTIVITY_FAILED");
    await waitFor(async () => (await client.getEntity(meter, "late")).state?.total === 1, "the signal");

    activityBroken = false;
    await refusal("late");
    expect((await client.getStatus("late"))?.runtimeStatus).toBe("Failed");
  });
});
