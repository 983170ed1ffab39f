import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entity, orchestration, type PerdureError } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

const account = entity("account", {
  initialState: { balance: 100 },
  operations: {
    balance: (s) => s.balance,
    set(s, balance: number) {
      s.balance = balance;
    },
    add(s, amount: number) {
      s.balance += amount;
    },
  },
});

const audit = entity("audit", {
  initialState: [] as string[],
  operations: {
    note: (s, line: string) => {
      s.push(line);
    },
  },
});

/**
 * A read-modify-write across several episodes, with a durable timer in between: without the
 * lock, two of these interleave and one increment is lost.
 */
const increment = orchestration("increment", async (ctx, key: string) => {
  const lock = await ctx.lockEntities([account, key]);
  const before = await ctx.callEntity(account, key, "balance");
  await ctx.sleep(5);
  await ctx.callEntity(account, key, "set", before + 1);
  lock.release();
  return before;
});

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.dispose();
});

describe("critical sections", () => {
  it("keeps other orchestrations' operations off the locked entity: no lost update", async () => {
    await h.startWorker({ orchestrations: [increment], entities: [account] });
    const ids = await Promise.all(Array.from({ length: 12 }, () => h.client.start(increment, "shared")));
    const outputs: number[] = [];
    for (const id of ids) {
      const done = await h.client.waitForCompletion<string, number>(id, { timeout: 30_000 });
      expect(done.runtimeStatus).toBe("Completed");
      outputs.push(done.output as number);
    }
    // Each saw a different balance: the sections ran one after another.
    expect(outputs.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
    expect((await h.client.getEntity(account, "shared")).state).toEqual({ balance: 112 });
  });

  it("holds client signals back until the section ends, then applies them", async () => {
    const section = orchestration("section", async (ctx) => {
      const lock = await ctx.lockEntities([account, "a"]);
      const first = await ctx.callEntity(account, "a", "balance");
      await ctx.waitForEvent("continue");
      const second = await ctx.callEntity(account, "a", "balance");
      lock.release();
      return [first, second, lock.isHeld];
    });
    await h.startWorker({ orchestrations: [section], entities: [account] });
    const id = await h.client.start(section, undefined);
    await waitFor(async () => (await h.client.getEntity(account, "a")).lockedBy === id, "the lock");
    await h.client.signalEntity(account, "a", "add", 50);
    await h.client.raiseEvent(id, "continue");
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.output).toEqual([100, 100, false]);
    await waitFor(async () => (await h.client.getEntity(account, "a")).state?.balance === 150, "the held signal");
    expect((await h.client.getEntity(account, "a")).lockedBy).toBeUndefined();
  });

  it("locks in a fixed order: sections asking for the same entities in opposite orders do not deadlock", async () => {
    const both = orchestration("both", async (ctx, order: "ab" | "ba") => {
      const targets = order === "ab" ? ([["a", "b"]] as const) : ([["b", "a"]] as const);
      const [first, second] = targets[0];
      const lock = await ctx.lockEntities([account, first], [account, second], [audit, "log"]);
      await ctx.callEntity(account, first, "add", -1);
      await ctx.callEntity(account, second, "add", 1);
      await ctx.callEntity(audit, "log", "note", ctx.instanceId);
      lock.release();
      return lock.entities.map((e) => `${e.name}@${e.key}`);
    });
    await h.startWorker({ orchestrations: [both], entities: [account, audit] });
    const ids = await Promise.all(
      Array.from({ length: 10 }, (_, i) => h.client.start(both, i % 2 === 0 ? "ab" : "ba", { instanceId: `t${i}` })),
    );
    for (const id of ids) {
      const done = await h.client.waitForCompletion(id, { timeout: 30_000 });
      expect(done.output).toEqual(["account@a", "account@b", "audit@log"]);
    }
    expect((await h.client.getEntity(account, "a")).state).toEqual({ balance: 100 });
    expect(((await h.client.getEntity(audit, "log")).state as string[]).sort()).toEqual(ids.sort());
  });

  it("inside a section only locked entities can be called, and sections cannot be nested", async () => {
    const rules = orchestration("rules", async (ctx) => {
      const codes: string[] = [];
      const lock = await ctx.lockEntities([account, "x"]);
      try {
        ctx.callEntity(account, "y", "balance");
      } catch (error) {
        codes.push((error as PerdureError).code);
      }
      try {
        ctx.lockEntities([account, "y"]);
      } catch (error) {
        codes.push((error as PerdureError).code);
      }
      // Signals go anywhere, and locked entities answer.
      ctx.signalEntity(audit, "elsewhere", "note", "from a section");
      codes.push(String(await ctx.callEntity(account, "x", "balance")));
      lock.release();
      lock.release();
      // After the section: any entity again, and a new section.
      codes.push(String(await ctx.callEntity(account, "y", "balance")));
      const again = await ctx.lockEntities([account, "y"]);
      again.release();
      return codes;
    });
    await h.startWorker({ orchestrations: [rules], entities: [account, audit] });
    const done = await h.client.waitForCompletion(await h.client.start(rules, undefined), { timeout: 15_000 });
    expect(done.output).toEqual(["ENTITY_NOT_LOCKED", "NESTED_CRITICAL_SECTION", "100", "100"]);
    expect((await h.client.getEntity(account, "y")).lockedBy).toBeUndefined();
    // The refused calls sent nothing: y was only read after the section.
    expect((await h.client.getEntity(account, "x")).lockedBy).toBeUndefined();
  });

  it("`await using` releases the lock where its block ends", async () => {
    const scoped = orchestration("scoped", async (ctx) => {
      {
        await using lock = await ctx.lockEntities([account, "u"]);
        await ctx.callEntity(account, "u", "add", 1);
        if (!lock.isHeld) throw new Error("the lock should be held inside the block");
      }
      // Outside the section: any entity can be called, and a new section can start.
      const other = await ctx.callEntity(account, "other", "balance");
      const again = await ctx.lockEntities([account, "u"]);
      again.release();
      return other;
    });
    await h.startWorker({ orchestrations: [scoped], entities: [account] });
    const done = await h.client.waitForCompletion(await h.client.start(scoped, undefined), { timeout: 15_000 });
    expect(done.output).toBe(100);
    const history = await h.client.getHistory((await h.client.list()).instances[0]?.instanceId as string);
    expect(history.filter((e) => e.type === "EntityUnlockSent")).toHaveLength(2);
  });

  it("releases the locks of an orchestration that completes, fails or continues as new without releasing them", async () => {
    const keep = orchestration("keep", async (ctx, how: "complete" | "fail" | "continue" | "done") => {
      await ctx.lockEntities([account, "held"]);
      if (how === "fail") throw new Error("failing inside the section");
      if (how === "continue") ctx.continueAsNew("done");
      return how;
    });
    await h.startWorker({ orchestrations: [keep, increment], entities: [account] });
    for (const how of ["complete", "fail", "continue"] as const) {
      const id = await h.client.start(keep, how, { instanceId: `keep-${how}` });
      const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
      expect(done.runtimeStatus).toBe(how === "fail" ? "Failed" : "Completed");
      // Another section gets the entity: it would wait forever if the lock were kept.
      const next = await h.client.start(increment, "held");
      expect((await h.client.waitForCompletion(next, { timeout: 15_000 })).runtimeStatus).toBe("Completed");
    }
    expect((await h.client.getEntity(account, "held")).state).toEqual({ balance: 103 });
  });

  it("terminating an orchestration that holds a lock releases it, and one waiting for it drops its request", async () => {
    const holder = orchestration("holder", async (ctx) => {
      await ctx.lockEntities([account, "t"]);
      await ctx.waitForEvent("never");
      return null;
    });
    await h.startWorker({ orchestrations: [holder, increment], entities: [account] });
    const first = await h.client.start(holder, undefined, { instanceId: "first" });
    await waitFor(async () => (await h.client.getEntity(account, "t")).lockedBy === "first", "first's lock");
    const second = await h.client.start(holder, undefined, { instanceId: "second" });
    await waitFor(
      async () => (await h.client.getHistory(second)).some((e) => e.type === "EntityLockRequested"),
      "second's request",
    );
    await h.client.terminate(second, "give up waiting");
    await h.client.terminate(first, "stop holding");
    const next = await h.client.start(increment, "t");
    expect((await h.client.waitForCompletion(next, { timeout: 15_000 })).output).toBe(100);
    expect((await h.client.getEntity(account, "t")).lockedBy).toBeUndefined();
  });
});
