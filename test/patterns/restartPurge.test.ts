import { activity, orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { countOf, rejectionOf } from "./helpers/events.js";
import { readRows } from "./helpers/probe.js";

describe("restart and purge", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  let runs = 0;
  const count = activity("count", (input: string) => {
    runs++;
    return `${input} #${runs}`;
  });
  const job = orchestration("job", async (ctx, input: string) => ctx.callActivity(count, input));
  const waiter = orchestration("waiter", async (ctx) => ctx.waitForEvent<string>("go"));

  it("restarts a finished instance under its id, or under a new one", async () => {
    runs = 0;
    env = openEnv();
    await env.startWorker({ orchestrations: [job], activities: [count] });
    const id = await env.client.start(job, "payload", { instanceId: "job-1" });
    expect((await env.client.waitForCompletion(id, { timeout: 15_000 })).output).toBe("payload #1");

    expect(await env.client.restart(id)).toBe(id);
    const again = await env.client.waitForCompletion(id, { timeout: 15_000 });
    expect(again.output).toBe("payload #2");
    expect(again.input).toBe("payload");
    // A new run: a fresh history, not the old one continued.
    expect(countOf(await env.client.getHistory(id), "ExecutionStarted")).toBe(1);

    const newId = await env.client.restart(id, { newInstanceId: true });
    expect(newId).not.toBe(id);
    const copy = await env.client.waitForCompletion(newId, { timeout: 15_000 });
    expect(copy).toMatchObject({ name: "job", input: "payload", output: "payload #3" });
    expect((await env.client.getStatus(id))?.output).toBe("payload #2");

    const named = await env.client.restart(id, { newInstanceId: "job-copy" });
    expect(named).toBe("job-copy");
    expect((await env.client.waitForCompletion(named, { timeout: 15_000 })).output).toBe("payload #4");
  });

  it("refuses to restart a running instance under the same id (INVALID_INSTANCE_STATE), but copies it to a new id", async () => {
    env = openEnv();
    await env.startWorker({ orchestrations: [waiter] });
    const id = await env.client.start(waiter, undefined);
    expect((await rejectionOf(env.client.restart(id))).code).toBe("INVALID_INSTANCE_STATE");
    expect((await rejectionOf(env.client.restart("no-such-id"))).code).toBe("INSTANCE_NOT_FOUND");
    const copy = await env.client.restart(id, { newInstanceId: true });
    await env.client.raiseEvent(copy, "go", "copy done");
    expect((await env.client.waitForCompletion(copy, { timeout: 15_000 })).output).toBe("copy done");
    expect((await env.client.getStatus(id))?.runtimeStatus).toBe("Running");
  });

  it("purges one finished instance and its history, and refuses a running one", async () => {
    runs = 0;
    env = openEnv();
    await env.startWorker({ orchestrations: [job, waiter], activities: [count] });
    const done = await env.client.start(job, "x");
    await env.client.waitForCompletion(done, { timeout: 15_000 });
    const running = await env.client.start(waiter, undefined);
    await waitFor(async () => (await env?.client.getStatus(running))?.runtimeStatus === "Running", "the waiter");

    await env.client.purge(done);
    expect(await env.client.getStatus(done)).toBeUndefined();
    expect((await rejectionOf(env.client.getHistory(done))).code).toBe("INSTANCE_NOT_FOUND");
    expect((await rejectionOf(env.client.purge(done))).code).toBe("INSTANCE_NOT_FOUND");

    expect((await rejectionOf(env.client.purge(running))).code).toBe("INVALID_INSTANCE_STATE");
    expect(readRows(env.file, running).historyEvents).toBeGreaterThan(0);
    expect((await env.client.getStatus(running))?.runtimeStatus).toBe("Running");
    await env.client.raiseEvent(running, "go", "still alive");
    expect((await env.client.waitForCompletion(running, { timeout: 15_000 })).output).toBe("still alive");
  });

  it("purgeInstances deletes the finished instances that match the filter and returns how many", async () => {
    const clock = manualClock();
    env = openEnv({ clock: clock.now });
    const failing = orchestration("failing", async () => {
      throw new Error("fails on purpose");
    });
    await env.startWorker({ orchestrations: [job, waiter, failing], activities: [count] });
    const t0 = clock.now();
    const early: string[] = [];
    for (let i = 0; i < 3; i++) early.push(await env.client.start(job, `early ${i}`));
    clock.advance(60_000);
    const late: string[] = [];
    for (let i = 0; i < 2; i++) late.push(await env.client.start(job, `late ${i}`));
    const failed = await env.client.start(failing, undefined);
    const running = await env.client.start(waiter, undefined);
    for (const id of [...early, ...late, failed]) await env.client.waitForCompletion(id, { timeout: 15_000 });

    // Created before t0 + 1 min and Completed: the three early jobs only.
    expect(await env.client.purgeInstances({ createdTo: new Date(t0 + 60_000), runtimeStatus: ["Completed"] })).toBe(3);
    for (const id of early) expect(await env.client.getStatus(id)).toBeUndefined();
    // Every finished instance from then on: the late jobs and the failed one, never the running one.
    expect(await env.client.purgeInstances({ createdFrom: new Date(t0 + 60_000) })).toBe(3);
    expect(await env.client.purgeInstances({})).toBe(0);
    const left = await env.client.list();
    expect(left.instances.map((s) => s.instanceId)).toEqual([running]);
  });
});
