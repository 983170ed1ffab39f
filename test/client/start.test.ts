import { afterEach, describe, expect, it } from "vitest";
import {
  activity,
  InstanceAlreadyExistsError,
  InvalidInstanceIdError,
  NotSerializableError,
  orchestration,
} from "../../src/index.js";
import { gate } from "../helpers/gate.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

const echo = orchestration("echo", async (_ctx, input: unknown) => input);

describe("client.start", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("refuses an id in use by an active instance with INSTANCE_ALREADY_EXISTS", async () => {
    h = createHarness();
    const held = gate();
    const hold = activity("hold", async () => {
      await held.wait();
      return "released";
    });
    const holding = orchestration("holding", async (ctx) => ctx.callActivity(hold));
    // Pending: no worker yet.
    await h.client.start(holding, undefined, { instanceId: "busy" });
    const pending = await h.client.start(holding, undefined, { instanceId: "busy" }).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(InstanceAlreadyExistsError);
    expect((pending as InstanceAlreadyExistsError).code).toBe("INSTANCE_ALREADY_EXISTS");
    expect((pending as InstanceAlreadyExistsError).runtimeStatus).toBe("Pending");

    // Running: its activity is held at the gate.
    await h.startWorker({ orchestrations: [holding], activities: [hold] });
    await waitFor(() => held.arrivals === 1, "the activity to start");
    expect((await h.client.getStatus("busy"))?.runtimeStatus).toBe("Running");
    const running = await h.client
      .start(holding, undefined, { instanceId: "busy", replaceIfFinished: true })
      .catch((e: unknown) => e);
    expect((running as InstanceAlreadyExistsError).code).toBe("INSTANCE_ALREADY_EXISTS");
    expect((running as InstanceAlreadyExistsError).runtimeStatus).toBe("Running");

    held.open();
    const status = await h.client.waitForCompletion("busy", { timeout: 15_000 });
    expect(status.output).toBe("released");
  });

  it("refuses an id of a finished instance unless replaceIfFinished, which starts a fresh run", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [echo] });
    await h.client.start(echo, "first", { instanceId: "again" });
    await h.client.waitForCompletion("again", { timeout: 15_000 });
    const firstHistory = await h.client.getHistory("again");

    const refused = await h.client.start(echo, "second", { instanceId: "again" }).catch((e: unknown) => e);
    expect((refused as InstanceAlreadyExistsError).code).toBe("INSTANCE_ALREADY_EXISTS");
    expect((refused as InstanceAlreadyExistsError).runtimeStatus).toBe("Completed");
    expect((await h.client.getStatus("again"))?.output).toBe("first");

    expect(await h.client.start(echo, "second", { instanceId: "again", replaceIfFinished: true })).toBe("again");
    const status = await h.client.waitForCompletion("again", { timeout: 15_000 });
    expect(status.output).toBe("second");
    expect(status.input).toBe("second");
    const history = await h.client.getHistory("again");
    // A new history, not the old one continued: one start, one completion, a new execution id.
    expect(history.filter((e) => e.type === "ExecutionStarted")).toHaveLength(1);
    expect(history.filter((e) => e.type === "ExecutionCompleted")).toHaveLength(1);
    const started = (events: typeof history) => events.find((e) => e.type === "ExecutionStarted");
    const oldStart = started(firstHistory);
    const newStart = started(history);
    expect(newStart?.type === "ExecutionStarted" && newStart.input).toBe("second");
    expect(oldStart?.type === "ExecutionStarted" && newStart?.type === "ExecutionStarted").toBe(true);
    if (oldStart?.type === "ExecutionStarted" && newStart?.type === "ExecutionStarted") {
      expect(newStart.executionId).not.toBe(oldStart.executionId);
    }
  });

  it("gives a random id when none is given", async () => {
    h = createHarness();
    const a = await h.client.start(echo, 1);
    const b = await h.client.start(echo, 2);
    expect(a).not.toBe(b);
    expect((await h.client.getStatus(a))?.input).toBe(1);
  });

  describe("instance ids", () => {
    it.each([
      ["empty", ""],
      ["257 characters", "x".repeat(257)],
      ["with '/'", "orders/42"],
      ["with '\\'", "orders\\42"],
      ["with '?'", "what?"],
      ["with '#'", "a#b"],
      ["with a newline", "a\nb"],
    ])("refuses an id %s with INVALID_INSTANCE_ID and writes nothing", async (_label, instanceId) => {
      h = createHarness();
      const before = h.store.commitCount;
      const error = await h.client.start(echo, 1, { instanceId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInstanceIdError);
      expect((error as InvalidInstanceIdError).code).toBe("INVALID_INSTANCE_ID");
      expect(h.store.commitCount).toBe(before);
    });

    it("accepts an id of exactly 256 characters", async () => {
      h = createHarness();
      const id = "y".repeat(256);
      expect(await h.client.start(echo, 1, { instanceId: id })).toBe(id);
      expect((await h.client.getStatus(id))?.instanceId).toBe(id);
    });

    it("refuses bad ids in the other client calls too", async () => {
      h = createHarness();
      for (const call of [
        () => h.client.getStatus("a/b"),
        () => h.client.getHistory(""),
        () => h.client.waitForCompletion("x".repeat(300)),
        () => h.client.terminate("a/b"),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: "INVALID_INSTANCE_ID" });
      }
    });
  });

  describe("inputs that JSON cannot carry", () => {
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;

    it.each([
      ["a function", { callback: () => 1 }, "input.callback"],
      ["a circular object", circular, "input.self"],
      ["a BigInt", { amount: 10n }, "input.amount"],
      ["a Date", { at: new Date(0) }, "input.at"],
      ["a Map", { items: [new Map([["k", 1]])] }, "input.items[0]"],
      ["NaN", { ratio: Number.NaN }, "input.ratio"],
      ["Infinity", [1, Number.POSITIVE_INFINITY], "input[1]"],
      ["undefined inside an array", [1, undefined], "input[1]"],
      ["a Set", new Set([1]), "input"],
      ["a class instance", { owner: new (class Account {})() }, "input.owner"],
      ["nesting 2,000 levels deep", JSON.parse(`${"[".repeat(2000)}${"]".repeat(2000)}`), `input${"[0]".repeat(257)}`],
    ])("refuses %s with NOT_SERIALIZABLE, naming the spot, and writes nothing", async (_label, input, path) => {
      h = createHarness();
      const before = h.store.commitCount;
      const error = await h.client.start(echo, input, { instanceId: "bad-input" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotSerializableError);
      expect((error as NotSerializableError).code).toBe("NOT_SERIALIZABLE");
      expect((error as NotSerializableError).path).toBe(path);
      expect(h.store.commitCount).toBe(before);
      expect(await h.client.getStatus("bad-input")).toBeUndefined();
    });

    it("accepts plain JSON values, nested", async () => {
      h = createHarness();
      await h.startWorker({ orchestrations: [echo] });
      const input = { s: "x", n: -1.5, b: false, nil: null, list: [1, "two", { three: [3] }], empty: {} };
      const id = await h.client.start(echo, input);
      expect((await h.client.waitForCompletion(id, { timeout: 15_000 })).output).toEqual(input);
    });
  });
});
