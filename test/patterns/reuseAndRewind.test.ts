import { activity, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { type PatternEnv as Env, openEnv } from "./helpers/env.js";

describe("child ids reused by a new run of the parent", () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("a restarted parent replaces its finished child under the default id", async () => {
    env = openEnv();
    const child = orchestration("kid", async (_ctx, n: number) => n * 10);
    const parent = orchestration("parentOfKid", async (ctx, n: number) => ctx.callSubOrchestration(child, n));
    await env.startWorker({ orchestrations: [parent, child] });
    const id = await env.client.start(parent, 1, { instanceId: "rp" });
    expect((await env.client.waitForCompletion(id, { timeout: 10_000 })).output).toBe(10);
    await env.client.restart(id);
    const again = await env.client.waitForCompletion(id, { timeout: 10_000 });
    expect(again.runtimeStatus).toBe("Completed");
    expect(again.output).toBe(10);
  });

  it("a parent that continues as new calls its child again under the same default id", async () => {
    env = openEnv();
    const child = orchestration("square", async (_ctx, n: number) => n * n);
    const parent = orchestration("squares", async (ctx, state: { i: number; sum: number }) => {
      const sum = state.sum + (await ctx.callSubOrchestration(child, state.i));
      if (state.i >= 3) return sum;
      ctx.continueAsNew({ i: state.i + 1, sum });
      return undefined;
    });
    await env.startWorker({ orchestrations: [parent, child] });
    const id = await env.client.start(parent, { i: 1, sum: 0 });
    const status = await env.client.waitForCompletion(id, { timeout: 10_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(1 + 4 + 9);
  });
});

describe("rewind after a failure the orchestration handled", () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("re-runs only the call that failed the instance, not the handled failure nor completed steps", async () => {
    env = openEnv();
    const runs: Record<string, number> = {};
    let healed = false;
    const step = (name: string, fails: boolean) =>
      activity(name, (n: number) => {
        runs[name] = (runs[name] ?? 0) + 1;
        if (fails && !healed) throw new Error(`${name} broken`);
        return `${name}(${n})`;
      });
    const a = step("a", true);
    const b = step("b", false);
    const c = step("c", true);
    const flow = orchestration("handled", async (ctx) => {
      let first: string;
      try {
        first = await ctx.callActivity(a, 1);
      } catch {
        first = "a failed, handled";
      }
      const second = await ctx.callActivity(b, 2);
      const third = await ctx.callActivity(c, 3);
      return [first, second, third];
    });
    await env.startWorker({ orchestrations: [flow], activities: [a, b, c] });
    const id = await env.client.start(flow, undefined);
    expect((await env.client.waitForCompletion(id, { timeout: 10_000 })).runtimeStatus).toBe("Failed");
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    healed = true;
    await env.client.rewind(id);
    const status = await env.client.waitForCompletion(id, { timeout: 10_000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["a failed, handled", "b(2)", "c(3)"]);
    expect(runs).toEqual({ a: 1, b: 1, c: 2 });
  });
});
