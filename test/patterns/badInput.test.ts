import { activity, orchestration, TaskAlreadyAwaitedError } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, thrownBy } from "./helpers/events.js";

const echo = activity("echo", (s: string) => s);
/** Registered nowhere: only its name travels. */
const unregistered = orchestration("not-registered", async () => "never runs");

describe("bad input fails at the point of use, with a typed error the orchestration can catch", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  async function run<O>(flow: ReturnType<typeof orchestration<undefined, O>>) {
    env = openEnv();
    await env.startWorker({ orchestrations: [flow], activities: [echo] });
    const id = await env.client.start(flow, undefined);
    return { id, status: await env.client.waitForCompletion(id, { timeout: 15_000 }) };
  }

  it("awaiting a durable task twice → TASK_ALREADY_AWAITED; the first result stays usable", async () => {
    const { status } = await run(
      orchestration("double-await", async (ctx) => {
        const task = ctx.callActivity(echo, "once");
        const first = await task;
        try {
          await task;
          return "the second await resolved";
        } catch (error) {
          const e = error as TaskAlreadyAwaitedError;
          return { first, code: e.code, typed: e instanceof TaskAlreadyAwaitedError, kept: task.result };
        }
      }),
    );
    expect(status.output).toEqual({ first: "once", code: "TASK_ALREADY_AWAITED", typed: true, kept: "once" });
  });

  it("a negative or malformed duration in ctx.sleep → INVALID_ARGUMENT, and no timer is recorded", async () => {
    const { id, status } = await run(
      orchestration("bad-sleep", async (ctx) => {
        const codes = [-1, Number.NaN, Number.POSITIVE_INFINITY, "soon", "5 parsecs", "", "-3s"].map(
          (d) => thrownBy(() => ctx.sleep(d)).code,
        );
        codes.push(thrownBy(() => ctx.sleepUntil(new Date("not a date"))).code);
        codes.push(thrownBy(() => ctx.waitForEvent("x", { timeout: -5 })).code);
        return codes;
      }),
    );
    expect(status.output).toEqual(Array(9).fill("INVALID_ARGUMENT"));
    expect(countOf(await (env as PatternEnv).client.getHistory(id), "TimerCreated")).toBe(0);
  });

  it("an empty event name → INVALID_ARGUMENT", async () => {
    const { status } = await run(
      orchestration("bad-event", async (ctx) => [
        thrownBy(() => ctx.waitForEvent("")).code,
        thrownBy(() => ctx.waitForEvent("  ")).code,
      ]),
    );
    expect(status.output).toEqual(["INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
  });

  it("a sub-orchestration the worker does not know → UNKNOWN_ORCHESTRATION at the call, and no child is created", async () => {
    const { id, status } = await run(
      orchestration("calls-unknown", async (ctx) => {
        const error = thrownBy(() => ctx.callSubOrchestration(unregistered));
        return { code: error.code, name: (error as Error & { orchestrationName?: string }).orchestrationName };
      }),
    );
    expect(status.output).toEqual({ code: "UNKNOWN_ORCHESTRATION", name: "not-registered" });
    const history = await (env as PatternEnv).client.getHistory(id);
    expect(countOf(history, "SubOrchestrationInstanceCreated")).toBe(0);
    expect((await (env as PatternEnv).client.list()).instances).toHaveLength(1);
  });

  it("continueAsNew with an input JSON cannot hold → NOT_SERIALIZABLE, and the instance does not continue", async () => {
    const { status } = await run(
      orchestration("bad-continue", async (ctx) => {
        const inputs: unknown[] = [{ at: new Date(0) }, { big: 1n }, { fn: () => 1 }, { n: Number.NaN }];
        const codes = inputs.map((input) => thrownBy(() => ctx.continueAsNew(input)).code);
        return { codes, echoed: await ctx.callActivity(echo, "still the first execution") };
      }),
    );
    expect(status.output).toEqual({
      codes: Array(4).fill("NOT_SERIALIZABLE"),
      echoed: "still the first execution",
    });
  });
});
