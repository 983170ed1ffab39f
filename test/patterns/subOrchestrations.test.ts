import { activity, orchestration, SubOrchestrationFailedError } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { ofType } from "./helpers/events.js";

const double = activity("double", (n: number) => n * 2);

const child = orchestration("child", async (ctx, n: number) => {
  const doubled = await ctx.callActivity(double, n);
  return { doubled, parent: ctx.parentInstanceId ?? null };
});

/** Fails with a coded error: the parent must see it as the cause of its SubOrchestrationFailedError. */
const brokenChild = orchestration("broken-child", async (_ctx, why: string) => {
  throw Object.assign(new Error(`child broke: ${why}`), { code: "CHILD_BROKE" });
});

interface CaughtFailure {
  code: string | undefined;
  isSubOrchestrationFailed: boolean;
  childInstanceId: string;
  causeCode: string | undefined;
  causeName: string | undefined;
}

describe("sub-orchestrations", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  it("returns the child's result; the parent's history records the child's id (default and given)", async () => {
    env = openEnv();
    const parent = orchestration("parent", async (ctx, n: number) => {
      const byDefault = await ctx.callSubOrchestration(child, n);
      const named = await ctx.callSubOrchestration(child, n + 1, { instanceId: `${ctx.instanceId}-named-child` });
      return { byDefault, named };
    });
    await env.startWorker({ orchestrations: [parent, child], activities: [double] });
    const id = await env.client.start(parent, 10, { instanceId: "p1" });
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ byDefault: { doubled: 20, parent: "p1" }, named: { doubled: 22, parent: "p1" } });

    const created = ofType(await env.client.getHistory(id), "SubOrchestrationInstanceCreated");
    expect(created.map((e) => e.instanceId)).toEqual(["p1:1", "p1-named-child"]);
    for (const childId of ["p1:1", "p1-named-child"]) {
      const childStatus = await env.client.getStatus(childId);
      expect(childStatus).toMatchObject({ runtimeStatus: "Completed", parentInstanceId: "p1", name: "child" });
    }
  });

  it("a child's failure reaches the parent as SubOrchestrationFailedError with the child's failure as cause", async () => {
    env = openEnv();
    const parent = orchestration("catching-parent", async (ctx): Promise<CaughtFailure> => {
      try {
        await ctx.callSubOrchestration(brokenChild, "on purpose");
        throw new Error("the child should have failed");
      } catch (error) {
        const e = error as SubOrchestrationFailedError;
        const cause = e.cause as (Error & { code?: string }) | undefined;
        return {
          code: e.code,
          isSubOrchestrationFailed: e instanceof SubOrchestrationFailedError,
          childInstanceId: e.childInstanceId,
          causeCode: cause?.code,
          causeName: cause?.name,
        };
      }
    });
    await env.startWorker({ orchestrations: [parent, brokenChild] });
    const id = await env.client.start(parent, undefined, { instanceId: "catcher" });
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({
      code: "SUB_ORCHESTRATION_FAILED",
      isSubOrchestrationFailed: true,
      childInstanceId: "catcher:1",
      causeCode: "CHILD_BROKE",
      causeName: "Error",
    });
    expect((await env.client.getStatus("catcher:1"))?.failure?.code).toBe("CHILD_BROKE");
  });

  it("an uncaught child failure fails the parent, keeping the chain of causes", async () => {
    env = openEnv();
    const parent = orchestration("failing-parent", async (ctx) => ctx.callSubOrchestration(brokenChild, "uncaught"));
    await env.startWorker({ orchestrations: [parent, brokenChild] });
    const id = await env.client.start(parent, undefined);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.failure?.code).toBe("SUB_ORCHESTRATION_FAILED");
    expect(status.failure?.cause?.code).toBe("CHILD_BROKE");
  });

  it("retries a failing child by its retry policy, as a new run under the same id", async () => {
    env = openEnv();
    let runs = 0;
    const flaky = orchestration("flaky-child", async (ctx) => {
      // Counted once per run, not per replay: each retry is a new run with a fresh history.
      if (!ctx.isReplaying) runs++;
      if (runs < 3) throw Object.assign(new Error(`run ${runs} fails`), { code: "FLAKY" });
      return `succeeded on run ${runs}`;
    });
    const parent = orchestration("retrying-parent", async (ctx) =>
      ctx.callSubOrchestration(flaky, undefined, {
        retry: { maxAttempts: 3, firstInterval: 1, backoffCoefficient: 1 },
      }),
    );
    await env.startWorker({ orchestrations: [parent, flaky] });
    const id = await env.client.start(parent, undefined, { instanceId: "retrier" });
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toBe("succeeded on run 3");
    const history = await env.client.getHistory(id);
    const created = ofType(history, "SubOrchestrationInstanceCreated");
    expect(created.map((e) => [e.instanceId, e.attempt])).toEqual([
      ["retrier:1", 1],
      ["retrier:1", 2],
      ["retrier:1", 3],
    ]);
    expect(ofType(history, "SubOrchestrationInstanceFailed").map((e) => e.failure.code)).toEqual(["FLAKY", "FLAKY"]);
    expect((await env.client.getStatus("retrier:1"))?.runtimeStatus).toBe("Completed");
  });

  it("a child id that collides with an active instance fails the call with INSTANCE_ALREADY_EXISTS and leaves that instance alone", async () => {
    env = openEnv();
    const waiting = orchestration("bystander", async (ctx) => ctx.waitForEvent<string>("go"));
    const parent = orchestration("colliding-parent", async (ctx) => {
      try {
        return await ctx.callSubOrchestration(child, 1, { instanceId: "taken" });
      } catch (error) {
        const e = error as SubOrchestrationFailedError;
        return { code: e.code, causeCode: (e.cause as { code?: string } | undefined)?.code };
      }
    });
    await env.startWorker({ orchestrations: [parent, child, waiting], activities: [double] });
    await env.client.start(waiting, undefined, { instanceId: "taken" });
    await waitFor(async () => (await env?.client.getStatus("taken"))?.runtimeStatus === "Running", "the bystander");
    const id = await env.client.start(parent, undefined);
    const status = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual({ code: "SUB_ORCHESTRATION_FAILED", causeCode: "INSTANCE_ALREADY_EXISTS" });

    // The instance that owned the id is untouched: same orchestration, no parent, still waiting.
    const bystander = await env.client.getStatus("taken");
    expect(bystander).toMatchObject({ name: "bystander", runtimeStatus: "Running" });
    expect(bystander?.parentInstanceId).toBeUndefined();
    await env.client.raiseEvent("taken", "go", "still mine");
    expect((await env.client.waitForCompletion("taken", { timeout: 15_000 })).output).toBe("still mine");
  });
});
