import { afterEach, describe, expect, it } from "vitest";
import { activity, orchestration, WorkerStateError } from "../../src/index.js";
import { gate } from "../helpers/gate.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

describe("worker lifecycle", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it("goes idle → running → stopped, starts once, and stops idempotently", async () => {
    h = createHarness();
    const worker = await h.startWorker({});
    expect(worker.state).toBe("running");
    const again = await worker.start().catch((e: unknown) => e);
    expect(again).toBeInstanceOf(WorkerStateError);
    expect((again as WorkerStateError).code).toBe("WORKER_STATE");
    await Promise.all([worker.stop(), worker.stop()]);
    expect(worker.state).toBe("stopped");
    await worker.stop();
    await expect(worker.start()).rejects.toMatchObject({ code: "WORKER_STATE" });
  });

  it("stop() lets a running activity finish and records its result, then releases every lease", async () => {
    h = createHarness();
    const held = gate();
    const hold = activity("hold", async () => {
      await held.wait();
      return "finished during stop";
    });
    const next = activity("next", () => "next");
    const flow = orchestration("stopping", async (ctx) => {
      const first = await ctx.callActivity(hold);
      return [first, await ctx.callActivity(next)];
    });
    const worker = await h.startWorker({ orchestrations: [flow], activities: [hold, next] });
    const id = await h.client.start(flow, undefined);
    await waitFor(() => held.arrivals === 1, "the activity to start");
    const stopping = worker.stop();
    expect(worker.state).toBe("stopping");
    held.open();
    await stopping;
    expect(await h.store.listLeaseOwners()).toEqual([]);
    const history = await h.client.getHistory(id);
    // The result is recorded; the next call is left for a worker that is running.
    expect(history.some((e) => e.type === "TaskCompleted" && e.result === "finished during stop")).toBe(true);
    await h.startWorker({ orchestrations: [flow], activities: [hold, next] });
    const status = await h.client.waitForCompletion(id, { timeout: 15_000 });
    expect(status.output).toEqual(["finished during stop", "next"]);
  });
});
