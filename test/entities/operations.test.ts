import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type EntityContext,
  EntityOperationFailedError,
  entity,
  type FailureDetails,
  orchestration,
} from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

/** A ledger: a total and the ids of what was applied, in order. */
interface Ledger {
  total: number;
  applied: string[];
}

const ledger = entity("ledger", {
  initialState: (): Ledger => ({ total: 0, applied: [] }),
  operations: {
    add(state, input: { id: string; amount: number }) {
      state.total += input.amount;
      state.applied.push(input.id);
    },
    fail(state, input: { id: string }) {
      state.applied.push(input.id);
      throw Object.assign(new Error(`refused ${input.id}`), { code: "REFUSED" });
    },
    /** Leaves a state that JSON cannot hold. */
    corrupt(state) {
      (state as unknown as { when: Date }).when = new Date();
    },
    badResult: () => new Map<string, number>(),
    get: (state) => state,
    reset: (_state, _input: undefined, ctx) => ctx.deleteState(),
    async slowAdd(state, amount: number) {
      await new Promise((resolve) => setImmediate(resolve));
      state.total += amount;
      return state.total;
    },
  },
});

const counter = entity("counter", {
  initialState: 0,
  operations: {
    add: (n, amount: number, ctx) => ctx.setState(n + amount),
    get: (n) => n,
  },
});

const greeted = orchestration("greeted", async (_ctx, name: string) => `hello ${name}`);

/** An entity whose operations reach out: signals to others, orchestrations started. */
const hub = entity("hub", {
  initialState: { forwarded: 0 },
  operations: {
    forward(state, input: { to: string; amount: number }, ctx: EntityContext<{ forwarded: number }>) {
      state.forwarded += input.amount;
      ctx.signalEntity(counter, input.to, "add", input.amount);
      return ctx.startOrchestration(greeted, input.to, { instanceId: `greet-${input.to}` });
    },
    forwardThenFail(_state, input: { to: string }, ctx) {
      ctx.signalEntity(counter, input.to, "add", 1000);
      ctx.startOrchestration(greeted, "never", { instanceId: "never-started" });
      throw new Error("changed my mind");
    },
  },
});

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.dispose();
});

describe("entity operations from orchestrations", () => {
  it("callEntity resolves with the operation's result; signalEntity is one-way; both are recorded in history", async () => {
    const flow = orchestration("flow", async (ctx, amount: number) => {
      ctx.signalEntity(counter, "c", "add", amount);
      ctx.signalEntity(counter, "c", "add", amount);
      const value: number = await ctx.callEntity(counter, "c", "get");
      return value;
    });
    await h.startWorker({ orchestrations: [flow], entities: [counter] });
    const id = await h.client.start(flow, 21);
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.output).toBe(42);
    const history = await h.client.getHistory(id);
    expect(history.filter((e) => e.type.startsWith("Entity")).map((e) => e.type)).toEqual([
      "EntitySignalSent",
      "EntitySignalSent",
      "EntityCallScheduled",
      "EntityOperationCompleted",
    ]);
    expect(await h.client.getEntity(counter, "c")).toMatchObject({ exists: true, state: 42 });
  });

  it("an operation that throws leaves the state as before it, and the rest of its batch applies", async () => {
    // All three wait before the worker starts: they are applied as one batch.
    await h.client.signalEntity(ledger, "l", "add", { id: "one", amount: 1 });
    await h.client.signalEntity(ledger, "l", "fail", { id: "bad" });
    await h.client.signalEntity(ledger, "l", "add", { id: "two", amount: 2 });
    await h.startWorker({ entities: [ledger] });
    const state = await waitFor(async () => {
      const status = await h.client.getEntity(ledger, "l");
      return status.state?.applied.length === 2 ? status.state : undefined;
    }, "both adds");
    // "bad" was pushed by the failing operation onto its copy of the state only.
    expect(state).toEqual({ total: 3, applied: ["one", "two"] });
  });

  it("a two-way caller gets EntityOperationFailedError naming entity, key and operation, with the cause", async () => {
    const caller = orchestration("caller", async (ctx) => {
      try {
        await ctx.callEntity(ledger, "l", "fail", { id: "bad" });
        return "no error";
      } catch (error) {
        const e = error as EntityOperationFailedError;
        return {
          isTyped: e instanceof EntityOperationFailedError,
          code: e.code,
          entityName: e.entityName,
          entityKey: e.entityKey,
          operation: e.operation,
          step: e.step,
          cause: { message: (e.cause as Error).message, code: (e.cause as { code?: string }).code },
        };
      }
    });
    await h.startWorker({ orchestrations: [caller], entities: [ledger] });
    const done = await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    expect(done.output).toEqual({
      isTyped: true,
      code: "ENTITY_OPERATION_FAILED",
      entityName: "ledger",
      entityKey: "l",
      operation: "fail",
      step: 1,
      cause: { message: "refused bad", code: "REFUSED" },
    });
    expect((await h.client.getEntity(ledger, "l")).exists).toBe(false);
  });

  it("applies a batch of waiting signals in order, in one commit", async () => {
    for (let i = 0; i < 200; i++) await h.client.signalEntity(ledger, "batch", "add", { id: `s${i}`, amount: i });
    const before = h.store.commitCount;
    await h.startWorker({ entities: [ledger] });
    const state = await waitFor(async () => {
      const status = await h.client.getEntity(ledger, "batch");
      return status.state?.applied.length === 200 ? status.state : undefined;
    }, "200 signals");
    expect(state.applied).toEqual(Array.from({ length: 200 }, (_, i) => `s${i}`));
    expect(state.total).toBe((199 * 200) / 2);
    // One claim, one batch: the state, 200 consumed messages and the lease in a single commit.
    expect(h.store.commitCount - before).toBe(2);
  });

  it("a state or a result that cannot be stored fails the operation, which changes nothing", async () => {
    const caller = orchestration("caller", async (ctx) => {
      await ctx.callEntity(ledger, "n", "add", { id: "kept", amount: 5 });
      const codes: (string | undefined)[] = [];
      for (const op of ["corrupt", "badResult"] as const) {
        try {
          await ctx.callEntity(ledger, "n", op);
        } catch (error) {
          codes.push(((error as EntityOperationFailedError).failure as FailureDetails).code);
        }
      }
      return { codes, state: await ctx.callEntity(ledger, "n", "get") };
    });
    await h.startWorker({ orchestrations: [caller], entities: [ledger] });
    const done = await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    expect(done.output).toEqual({
      codes: ["NOT_SERIALIZABLE", "NOT_SERIALIZABLE"],
      state: { total: 5, applied: ["kept"] },
    });
  });

  it("deleteState: the entity no longer exists, and the next operation sees the initial state", async () => {
    const caller = orchestration("caller", async (ctx) => {
      await ctx.callEntity(ledger, "d", "add", { id: "x", amount: 9 });
      await ctx.callEntity(ledger, "d", "reset");
      return null;
    });
    await h.startWorker({ orchestrations: [caller], entities: [ledger] });
    await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    const status = await h.client.getEntity(ledger, "d");
    expect(status).toMatchObject({ exists: false, state: { total: 0, applied: [] } });
    await h.client.signalEntity(ledger, "d", "add", { id: "y", amount: 1 });
    expect(
      await waitFor(
        async () => (await h.client.getEntity(ledger, "d")).state?.applied.join(",") || undefined,
        "re-created",
      ),
    ).toBe("y");
  });

  it("async operations complete before the next one starts", async () => {
    const caller = orchestration("caller", async (ctx) => {
      const results = await ctx.all([1, 2, 3].map((n) => ctx.callEntity(ledger, "async", "slowAdd", n)));
      return results;
    });
    await h.startWorker({ orchestrations: [caller], entities: [ledger] });
    const done = await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    expect(done.output).toEqual([1, 3, 6]);
  });

  it("an operation's signals and started orchestrations are committed with its state, and dropped if it throws", async () => {
    const caller = orchestration("caller", async (ctx) => {
      const started = await ctx.callEntity(hub, "h", "forward", { to: "bob", amount: 7 });
      try {
        await ctx.callEntity(hub, "h", "forwardThenFail", { to: "bob" });
      } catch {
        // Expected: its effects must not happen.
      }
      return started;
    });
    await h.startWorker({ orchestrations: [caller, greeted], entities: [hub, counter] });
    const done = await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    expect(done.output).toBe("greet-bob");
    const greeting = await h.client.waitForCompletion("greet-bob", { timeout: 15_000 });
    expect(greeting.output).toBe("hello bob");
    await waitFor(async () => (await h.client.getEntity(counter, "bob")).state === 7, "the forwarded signal");
    expect(await h.client.getEntity(hub, "h")).toMatchObject({ state: { forwarded: 7 } });
    expect(await h.client.getStatus("never-started")).toBeUndefined();
    // Nothing more arrives: the failed operation's signal of 1000 was dropped with it.
    await h.client.signalEntity(counter, "bob", "add", 1);
    await waitFor(async () => (await h.client.getEntity(counter, "bob")).state === 8, "8 = 7 + 1, not 1008");
  });

  it("replay does not send a signal again, nor call again", async () => {
    const flow = orchestration("flow", async (ctx) => {
      ctx.signalEntity(counter, "r", "add", 1);
      const first = await ctx.callEntity(counter, "r", "get");
      await ctx.waitForEvent("go");
      ctx.signalEntity(counter, "r", "add", 10);
      return [first, await ctx.callEntity(counter, "r", "get")];
    });
    const first = await h.startWorker({ orchestrations: [flow], entities: [counter] });
    const id = await h.client.start(flow, undefined);
    await waitFor(
      async () => (await h.client.getHistory(id)).some((e) => e.type === "EntityOperationCompleted"),
      "first call",
    );
    // A new worker replays the instance from history.
    await first.stop();
    await h.startWorker({ orchestrations: [flow], entities: [counter] });
    await h.client.raiseEvent(id, "go");
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.output).toEqual([1, 11]);
    expect((await h.client.getEntity(counter, "r")).state).toBe(11);
  });

  it("code that calls another operation on replay fails with NonDeterminismError naming both", async () => {
    const v1 = orchestration("drift", async (ctx) => {
      await ctx.callEntity(counter, "d", "get");
      await ctx.waitForEvent("go");
      return null;
    });
    const v2 = orchestration("drift", async (ctx) => {
      await ctx.callEntity(counter, "d", "add", 1);
      await ctx.waitForEvent("go");
      return null;
    });
    const first = await h.startWorker({ orchestrations: [v1], entities: [counter] });
    const id = await h.client.start(v1, undefined);
    await waitFor(
      async () => (await h.client.getHistory(id)).some((e) => e.type === "EntityOperationCompleted"),
      "call",
    );
    await first.stop();
    await h.startWorker({ orchestrations: [v2], entities: [counter] });
    await h.client.raiseEvent(id, "go");
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.runtimeStatus).toBe("Failed");
    expect(done.failure?.code).toBe("NON_DETERMINISM");
    expect(done.failure?.step).toBe(1);
  });

  it("signals sent by the episode that completes the orchestration are delivered", async () => {
    const fireAndForget = orchestration("fireAndForget", async (ctx, n: number) => {
      for (let i = 0; i < n; i++) ctx.signalEntity(ledger, "ff", "add", { id: `${ctx.instanceId}-${i}`, amount: 1 });
      return "sent";
    });
    await h.startWorker({ orchestrations: [fireAndForget], entities: [ledger] });
    const done = await h.client.waitForCompletion(await h.client.start(fireAndForget, 5, { instanceId: "f" }), {
      timeout: 15_000,
    });
    expect(done.output).toBe("sent");
    const state = await waitFor(async () => {
      const s = (await h.client.getEntity(ledger, "ff")).state;
      return s?.applied.length === 5 ? s : undefined;
    }, "five signals");
    expect(state.applied).toEqual(["f-0", "f-1", "f-2", "f-3", "f-4"]);
  });

  it("a scheduled signal from an orchestration waits until its time", async () => {
    const later = orchestration("later", async (ctx) => {
      ctx.signalEntity(counter, "s", "add", 5, { at: new Date(ctx.now().getTime() + 60_000) });
      ctx.signalEntity(counter, "s", "add", 1);
      return null;
    });
    let now = Date.UTC(2031, 0, 1);
    const clocked = createHarness({ clock: () => now });
    try {
      await clocked.startWorker({ orchestrations: [later], entities: [counter] });
      await clocked.client.waitForCompletion(await clocked.client.start(later, undefined), { timeout: 15_000 });
      await waitFor(async () => (await clocked.client.getEntity(counter, "s")).state === 1, "the immediate signal");
      now += 60_000;
      await waitFor(async () => (await clocked.client.getEntity(counter, "s")).state === 6, "the scheduled signal");
    } finally {
      await clocked.dispose();
    }
  });
});
