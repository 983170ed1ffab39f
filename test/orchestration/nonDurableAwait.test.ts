import { afterEach, describe, expect, it } from "vitest";
import { activity, type OrchestrationDefinition, orchestration } from "../../src/index.js";
import { drive } from "../helpers/executorDriver.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const echo = activity("echo", (s: string) => s);

const awaitsSetTimeout = orchestration("awaitsSetTimeout", async () => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return "never recorded";
});

const awaitsForever = orchestration("awaitsForever", async () => {
  await new Promise(() => undefined);
  return "never recorded";
});

const awaitsTimeoutAfterStep = orchestration("awaitsTimeoutAfterStep", async (ctx) => {
  const first = await ctx.callActivity(echo, "durable");
  await new Promise((resolve) => setTimeout(resolve, 10));
  return first;
});

const forgetsToAwait = orchestration("forgetsToAwait", async (ctx) => {
  // The call is made but the code waits on something else: still not a durable wait.
  void ctx.callActivity(echo, "not awaited");
  await new Promise(() => undefined);
  return "never";
});

// Control cases: settled promises and durable tasks combined are fine.
const awaitsSettledPromises = orchestration("awaitsSettledPromises", async (ctx) => {
  const local = await Promise.resolve("local");
  const [a, b] = await Promise.all([ctx.callActivity(echo, "a"), ctx.callActivity(echo, "b")]);
  const c = await Promise.race([ctx.callActivity(echo, "c")]);
  return `${local}${a}${b}${c}`;
});

const fakes = { echo: (s: unknown) => s };

describe("awaiting a non-durable promise (executor)", () => {
  it.each([
    ["setTimeout", awaitsSetTimeout],
    ["a never-resolving promise", awaitsForever],
    ["setTimeout after a durable step", awaitsTimeoutAfterStep],
    ["a promise while a call is left unawaited", forgetsToAwait],
  ] as [string, OrchestrationDefinition<never, unknown>][])("fails the episode on %s", async (_label, definition) => {
    const run = await drive(definition, { activities: fakes });
    expect(run.outcome.status).toBe("Failed");
    if (run.outcome.status !== "Failed") return;
    expect(run.outcome.failure.code).toBe("NON_DURABLE_AWAIT");
    expect(run.outcome.failure.name).toBe("NonDurableAwaitError");
    expect(run.history.at(-1)?.type).toBe("ExecutionFailed");
  });

  it("accepts settled promises, Promise.all and Promise.race over durable tasks", async () => {
    const run = await drive(awaitsSettledPromises, { activities: fakes });
    expect(run.outcome).toEqual({ status: "Completed", output: "localabc" });
  });
});

describe("awaiting a non-durable promise (worker)", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it.each([
    ["setTimeout", awaitsSetTimeout],
    ["a never-resolving promise", awaitsForever],
    ["setTimeout after a durable step", awaitsTimeoutAfterStep],
  ] as [string, OrchestrationDefinition<undefined, unknown>][])(
    "records the instance as Failed with NON_DURABLE_AWAIT on %s",
    async (_label, definition) => {
      h = createHarness();
      await h.startWorker({ orchestrations: [definition], activities: [echo] });
      const id = await h.client.start(definition, undefined);
      const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
      expect(status.runtimeStatus).toBe("Failed");
      expect(status.failure?.code).toBe("NON_DURABLE_AWAIT");
      expect(status.output).toBeUndefined();
    },
  );
});
