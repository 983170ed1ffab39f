// The recent operations of an entity, as a worker records them and a client reads them:
// who sent each message, signal or call, lock and unlock, failures, input previews.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { entity, InvalidArgumentError, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

const account = entity("account", {
  initialState: { balance: 0 },
  operations: {
    deposit(state, amount: number) {
      state.balance += amount;
    },
    withdraw(state, amount: number) {
      if (state.balance < amount) throw new RangeError(`insufficient funds for ${amount}`);
      state.balance -= amount;
    },
    balance: (state) => state.balance,
    note(_state, _text: string) {},
  },
});

/** Pays interest into an account by signalling it: an entity as a sender. */
const bank = entity("bank", {
  initialState: 0,
  operations: {
    payInterest(paid, input: { to: string; amount: number }, ctx) {
      ctx.signalEntity(account, input.to, "deposit", input.amount);
      ctx.setState(paid + input.amount);
    },
  },
});

const audit = orchestration("audit", async (ctx, key: string) => {
  const lock = await ctx.lockEntities([account, key]);
  let balance: number;
  try {
    balance = await ctx.callEntity(account, key, "balance");
    try {
      await ctx.callEntity(account, key, "withdraw", balance + 1);
    } catch {
      // Expected: the log records the failure.
    }
  } finally {
    lock.release();
  }
  // A call after the section: applied after the unlock, while the orchestration still runs
  // (an orchestration that ends lets go of its locks in its last commit, before its unlock arrives).
  await ctx.callEntity(account, key, "note", "audited");
  return balance;
});

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.dispose();
});

describe("an entity's recent operations", () => {
  it("records every sender, signals and calls, lock and unlock, and failures, newest first", async () => {
    await h.startWorker({ orchestrations: [audit], activities: [], entities: [account, bank] });
    await h.client.signalEntity(account, "alice", "deposit", 10);
    await h.client.signalEntity(bank, "central", "payInterest", { to: "alice", amount: 2 });
    await waitFor(async () => (await h.client.getEntity(account, "alice")).state?.balance === 12, "the deposits");
    const id = await h.client.start(audit, "alice");
    expect((await h.client.waitForCompletion(id)).output).toBe(12);

    const { operations, pending } = await h.client.getEntityOperations(account, "alice");
    expect(pending).toBe(0);
    const shape = operations.map((o) => [o.kind, o.operation ?? null, o.sender, o.ok, o.inputPreview ?? null]);
    expect(shape).toEqual([
      ["call", "note", { kind: "orchestration", instanceId: id }, true, '"audited"'],
      ["unlock", null, { kind: "orchestration", instanceId: id }, true, null],
      ["call", "withdraw", { kind: "orchestration", instanceId: id }, false, "13"],
      ["call", "balance", { kind: "orchestration", instanceId: id }, true, null],
      ["lock", null, { kind: "orchestration", instanceId: id }, true, null],
      ["signal", "deposit", { kind: "entity", name: "bank", key: "central" }, true, "2"],
      ["signal", "deposit", { kind: "client" }, true, "10"],
    ]);
    expect(operations[2]?.error).toEqual({ name: "RangeError", message: "insufficient funds for 13" });
    for (const o of operations) expect(o.appliedAt).toBeInstanceOf(Date);
    // Newest first: no entry is older than the one after it.
    const times = operations.map((o) => o.appliedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((await h.client.getEntityOperations("account", "alice", { limit: 2 })).operations).toEqual(
      operations.slice(0, 2),
    );
    expect((await h.client.getEntityOperations(bank, "central")).operations).toMatchObject([
      { kind: "signal", operation: "payInterest", sender: { kind: "client" }, ok: true },
    ]);
  });

  it("records the release of the locks an orchestration held when it ended", async () => {
    const holdsOn = orchestration("holdsOn", async (ctx, key: string) => {
      await ctx.lockEntities([account, key]);
      const balance = await ctx.callEntity(account, key, "balance");
      if (balance === 0) throw new Error("nothing to audit");
      return balance;
    });
    const releasesLast = orchestration("releasesLast", async (ctx, key: string) => {
      const lock = await ctx.lockEntities([account, key]);
      lock.release();
      return "released";
    });
    await h.startWorker({ orchestrations: [holdsOn, releasesLast], activities: [], entities: [account] });
    const failed = await h.client.start(holdsOn, "carol");
    expect((await h.client.waitForCompletion(failed)).runtimeStatus).toBe("Failed");
    const released = await h.client.start(releasesLast, "carol");
    expect((await h.client.waitForCompletion(released)).output).toBe("released");
    // The unlock the last one sent arrives after its end took the lock away: logged once.
    await waitFor(async () => (await h.client.getEntityOperations(account, "carol")).pending === 0, "the unlock");
    const { operations } = await h.client.getEntityOperations(account, "carol");
    expect(operations.map((o) => [o.kind, o.operation ?? null, o.sender])).toEqual([
      ["unlock", null, { kind: "orchestration", instanceId: released }],
      ["lock", null, { kind: "orchestration", instanceId: released }],
      ["unlock", null, { kind: "orchestration", instanceId: failed }],
      ["call", "balance", { kind: "orchestration", instanceId: failed }],
      ["lock", null, { kind: "orchestration", instanceId: failed }],
    ]);
  });

  it("keeps the last 20 of a long batch, cuts long inputs, and counts what waits", async () => {
    const long = "x".repeat(500);
    for (let i = 0; i < 30; i++) await h.client.signalEntity(account, "bob", "deposit", i);
    await h.client.signalEntity(account, "bob", "note", long);
    await h.client.signalEntity(account, "bob", "deposit", 1, { at: new Date(Date.now() + 3_600_000) });
    expect(await h.client.getEntityOperations(account, "bob")).toEqual({ operations: [], pending: 32 });

    await h.startWorker({ entities: [account] });
    await waitFor(async () => (await h.client.getEntityOperations(account, "bob")).pending === 1, "the batch");
    const { operations } = await h.client.getEntityOperations(account, "bob");
    expect(operations).toHaveLength(20);
    expect(operations[0]?.operation).toBe("note");
    expect(operations[0]?.inputPreview).toHaveLength(200);
    expect(operations[0]?.inputPreview).toBe(`${JSON.stringify(long).slice(0, 199)}…`);
    expect(operations.slice(1).map((o) => Number(o.inputPreview))).toEqual(
      Array.from({ length: 19 }, (_, i) => 29 - i),
    );
  });

  it("refuses a bad key, name or limit", async () => {
    const codes = async (run: () => Promise<unknown>) => {
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
    };
    await codes(() => h.client.getEntityOperations(account, ""));
    await codes(() => h.client.getEntityOperations("", "k"));
    await codes(() => h.client.getEntityOperations(account, "k", { limit: 0 }));
    await codes(() => h.client.getEntityOperations(account, "k", { limit: 1.5 }));
    await codes(() => h.client.getEntityOperations(account, "k", { limit: 1001 }));
  });
});
