import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ActivityFailedError,
  activity,
  createWorker,
  EntityCallNotAllowedError,
  entity,
  orchestration,
  type PerdureError,
  silentLogger,
} from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const counter = entity("counter", {
  initialState: 0,
  operations: {
    add: (n, amount: number, ctx) => ctx.setState(n + amount),
    get: (n) => n,
  },
});
/** Registered nowhere. */
const stranger = entity("stranger", { initialState: 0, operations: { poke: () => "ouch" } });

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as PerdureError).code;
  }
};

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => {
  await h.dispose();
});

/** Every entity row, empty ones included: bad input must leave none behind. */
const allEntities = async () => (await h.store.listEntities({ limit: 100, includeEmpty: true })).entities;

describe("entity definitions", () => {
  it("refuses a bad name, no operations, a non-function operation, and an initial state JSON cannot hold", () => {
    const noop = { initialState: 0, operations: { x: () => 1 } };
    expect(codeOf(() => entity("", noop))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => entity("x", { initialState: 0, operations: {} }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => entity("x", { initialState: 0, operations: { x: 1 as never } }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => entity("x", { initialState: new Date(), operations: { x: () => 1 } }))).toBe(
      "NOT_SERIALIZABLE",
    );
    expect(codeOf(() => entity("x", null as never))).toBe("INVALID_ARGUMENT");
  });

  it("hands out a fresh copy of an object initial state each time", () => {
    const list = entity("list", { initialState: { items: [1] }, operations: { x: () => 1 } });
    const first = list.initialState();
    first.items.push(2);
    expect(list.initialState()).toEqual({ items: [1] });
  });

  it("createWorker refuses what is not an entity, and two entities of one name", () => {
    const base = { store: h.store, orchestrations: [], activities: [], logger: silentLogger, handleSignals: false };
    expect(codeOf(() => createWorker({ ...base, entities: [{ kind: "activity" } as never] }))).toBe("INVALID_ARGUMENT");
    expect(
      codeOf(() =>
        createWorker({
          ...base,
          entities: [counter, entity("counter", { initialState: 1, operations: { y: () => 1 } })],
        }),
      ),
    ).toBe("INVALID_ARGUMENT");
  });

  it("types flow: operation names, inputs and results are checked", () => {
    const typed = orchestration("typed", async (ctx) => {
      const n: number = await ctx.callEntity(counter, "k", "get");
      // @ts-expect-error: no operation "subtract"
      ctx.signalEntity(counter, "k", "subtract", 1);
      // @ts-expect-error: add takes a number
      ctx.signalEntity(counter, "k", "add", "one");
      // @ts-expect-error: add needs its input
      ctx.callEntity(counter, "k", "add");
      // @ts-expect-error: get returns a number
      const s: string = await ctx.callEntity(counter, "k", "get");
      return [n, s];
    });
    expect(typed.kind).toBe("orchestration");
  });
});

describe("bad calls change nothing stored", () => {
  it("from an orchestration: unknown entity or operation, bad key, input that JSON cannot hold", async () => {
    const caller = orchestration("caller", async (ctx) => {
      const attempts: (() => unknown)[] = [
        () => ctx.callEntity(stranger, "k", "poke"),
        () => ctx.signalEntity(stranger, "k", "poke"),
        () => ctx.lockEntities([stranger, "k"]),
        () => ctx.callEntity(counter, "k", "nope" as "get"),
        () => ctx.signalEntity(counter, "k", "nope" as "get"),
        () => ctx.callEntity(counter, "", "get"),
        () => ctx.callEntity(counter, "k", "add", Number.NaN),
        () => ctx.signalEntity(counter, "k", "add", (() => 1) as unknown as number),
        () => ctx.lockEntities(),
        () => ctx.lockEntities(["counter", "k"] as never),
        () => ctx.callEntity({ name: "counter" } as never, "k", "get" as never, undefined as never),
      ];
      const codes = attempts.map(codeOf);
      // The orchestration goes on, and its steps are not taken by the refused calls.
      codes.push(String(await ctx.callEntity(counter, "ok", "get")));
      return codes;
    });
    await h.startWorker({ orchestrations: [caller], entities: [counter] });
    const id = await h.client.start(caller, undefined);
    const done = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.output).toEqual([
      "UNKNOWN_ENTITY",
      "UNKNOWN_ENTITY",
      "UNKNOWN_ENTITY",
      "UNKNOWN_ENTITY_OPERATION",
      "UNKNOWN_ENTITY_OPERATION",
      "INVALID_ARGUMENT",
      "NOT_SERIALIZABLE",
      "NOT_SERIALIZABLE",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
      "0",
    ]);
    expect((await allEntities()).map((e) => `${e.name}@${e.key}`)).toEqual(["counter@ok"]);
    const scheduled = (await h.client.getHistory(id)).filter((e) => e.type === "EntityCallScheduled");
    expect(scheduled).toMatchObject([{ step: 1, key: "ok" }]);
  });

  it("an operation the entity's worker does not have (a definition out of date) fails the call, typed", async () => {
    // The orchestration's code knows a newer counter with "double"; the worker registers the old one.
    const newer = entity("counter", {
      initialState: 0,
      operations: { get: (n: number) => n, double: (n: number, _i: undefined, ctx) => ctx.setState(n * 2) },
    });
    const caller = orchestration("caller", async (ctx) => {
      try {
        await ctx.callEntity(newer, "skew", "double");
        return "no error";
      } catch (error) {
        const e = error as PerdureError & { failure: { code?: string } };
        return [e.code, e.failure.code];
      }
    });
    await h.startWorker({ orchestrations: [caller], entities: [counter] });
    const done = await h.client.waitForCompletion(await h.client.start(caller, undefined), { timeout: 15_000 });
    expect(done.output).toEqual(["ENTITY_OPERATION_FAILED", "UNKNOWN_ENTITY_OPERATION"]);
    expect((await h.client.getEntity(counter, "skew")).exists).toBe(false);
  });

  it("from the client: unknown operation of a definition, bad key or name, input that JSON cannot hold", async () => {
    const codes = await Promise.all(
      [
        () => h.client.signalEntity(counter, "k", "nope" as "get"),
        () => h.client.signalEntity(counter, "", "add", 1),
        () => h.client.signalEntity("", "k", "add", 1),
        () => h.client.signalEntity(counter, "k", "add", Number.POSITIVE_INFINITY),
        () => h.client.signalEntity("counter", "k", "add", new Map()),
        () => h.client.signalEntity("counter", "k", ""),
        () => h.client.signalEntity(counter, "k", "add", 1, { at: new Date(Number.NaN) }),
        () => h.client.getEntity(counter, "a\u0000b"),
        () => h.client.getEntity(42 as never, "k"),
      ].map((fn) =>
        fn().then(
          () => undefined,
          (error: PerdureError) => error.code,
        ),
      ),
    );
    expect(codes).toEqual([
      "UNKNOWN_ENTITY_OPERATION",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
      "NOT_SERIALIZABLE",
      "NOT_SERIALIZABLE",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
      "INVALID_ARGUMENT",
    ]);
    expect(await allEntities()).toEqual([]);
  });

  it("from an activity: callEntity throws EntityCallNotAllowedError, and the activity fails with it", async () => {
    const sneaky = activity("sneaky", async (_input: undefined, ctx) => {
      ctx.callEntity(counter, "k", "add", 1);
      return "unreachable";
    });
    const flow = orchestration("flow", async (ctx) => {
      try {
        await ctx.callActivity(sneaky, undefined);
        return "no error";
      } catch (error) {
        const failed = error as ActivityFailedError;
        return { typed: failed instanceof ActivityFailedError, cause: failed.failure.code, name: failed.failure.name };
      }
    });
    await h.startWorker({ orchestrations: [flow], activities: [sneaky], entities: [counter] });
    const done = await h.client.waitForCompletion(await h.client.start(flow, undefined), { timeout: 15_000 });
    expect(done.output).toEqual({ typed: true, cause: "ENTITY_CALL_NOT_ALLOWED", name: "EntityCallNotAllowedError" });
    expect(new EntityCallNotAllowedError("x").code).toBe("ENTITY_CALL_NOT_ALLOWED");
    expect(await allEntities()).toEqual([]);
  });
});
