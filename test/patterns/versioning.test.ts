import { activity, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, ofType } from "./helpers/events.js";

const oldStep = activity("old-step", (order: string) => `old pricing for ${order}`);
const newStep = activity("new-step", (order: string) => `new pricing for ${order}`);
const activities = [oldStep, newStep];

/** Version 1, as deployed when the old instance started. */
const v1 = orchestration("pricing", async (ctx, order: string) => {
  const price = await ctx.callActivity(oldStep, order);
  const approval = await ctx.waitForEvent<string>("approve");
  return { price, approval };
});

/** Version 2, same name: the pricing step changed, guarded by a patch. */
const v2 = orchestration("pricing", async (ctx, order: string) => {
  const price = ctx.patched("v2") ? await ctx.callActivity(newStep, order) : await ctx.callActivity(oldStep, order);
  const approval = await ctx.waitForEvent<string>("approve");
  return { price, approval };
});

/** Version 2 without the guard: what the patch protects old instances from. */
const v2Unguarded = orchestration("pricing", async (ctx, order: string) => {
  const price = await ctx.callActivity(newStep, order);
  const approval = await ctx.waitForEvent<string>("approve");
  return { price, approval };
});

describe("versioning with ctx.patched", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  /** Starts an instance under v1 and stops v1's worker while it waits for "approve". */
  async function oldInstance(e: PatternEnv, id: string): Promise<void> {
    const oldWorker = await e.startWorker({ orchestrations: [v1], activities });
    await e.client.start(v1, id, { instanceId: id });
    await waitFor(async () => countOf(await e.client.getHistory(id), "TaskCompleted") === 1, "the old step");
    await oldWorker.stop();
  }

  it("an old instance finishes on the old branch under new code; a new instance takes the new branch", async () => {
    env = openEnv();
    await oldInstance(env, "order-old");

    await env.startWorker({ orchestrations: [v2], activities });
    await env.client.raiseEvent("order-old", "approve", "ok");
    const old = await env.client.waitForCompletion("order-old", { timeout: 15_000 });
    expect(old.runtimeStatus).toBe("Completed");
    expect(old.output).toEqual({ price: "old pricing for order-old", approval: "ok" });
    const oldHistory = await env.client.getHistory("order-old");
    expect(countOf(oldHistory, "PatchApplied")).toBe(0);
    expect(ofType(oldHistory, "TaskScheduled").map((e) => e.name)).toEqual(["old-step"]);

    const fresh = await env.client.start(v2, "order-new", { instanceId: "order-new" });
    await waitFor(
      async () => countOf(await (env as PatternEnv).client.getHistory(fresh), "TaskCompleted") === 1,
      "new",
    );
    await env.client.raiseEvent(fresh, "approve", "ok");
    const done = await env.client.waitForCompletion(fresh, { timeout: 15_000 });
    expect(done.output).toEqual({ price: "new pricing for order-new", approval: "ok" });
    const newHistory = await env.client.getHistory(fresh);
    expect(ofType(newHistory, "PatchApplied").map((e) => e.patchId)).toEqual(["v2"]);
    expect(ofType(newHistory, "TaskScheduled").map((e) => e.name)).toEqual(["new-step"]);
  });

  it("a new instance replayed by another worker keeps the new branch (PatchApplied is read back)", async () => {
    env = openEnv();
    const first = await env.startWorker({ orchestrations: [v2], activities });
    const id = await env.client.start(v2, "order-replayed");
    await waitFor(async () => countOf(await (env as PatternEnv).client.getHistory(id), "TaskCompleted") === 1, "step");
    await first.stop();
    await env.startWorker({ orchestrations: [v2], activities });
    await env.client.raiseEvent(id, "approve", "ok");
    const done = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(done.output).toEqual({ price: "new pricing for order-replayed", approval: "ok" });
    expect(countOf(await env.client.getHistory(id), "PatchApplied")).toBe(1);
  });

  it("without the patch, the same change breaks the old instance with NON_DETERMINISM", async () => {
    env = openEnv();
    await oldInstance(env, "order-broken");
    await env.startWorker({ orchestrations: [v2Unguarded], activities });
    await env.client.raiseEvent("order-broken", "approve", "ok");
    const status = await env.client.waitForCompletion("order-broken", { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("NON_DETERMINISM");
  });
});
