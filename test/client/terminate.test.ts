import { afterEach, describe, expect, it } from "vitest";
import { activity, InstanceNotActiveError, orchestration } from "../../src/index.js";
import { gate } from "../helpers/gate.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";

describe("client.terminate", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("stops a running instance: Terminated, output = reason, and the worker advances it no further", async () => {
    h = createHarness();
    const held = gate();
    let afterRuns = 0;
    const hold = activity("hold", async () => {
      await held.wait();
      return "released";
    });
    const after = activity("after", () => {
      afterRuns++;
      return "after";
    });
    const flow = orchestration("held", async (ctx) => {
      await ctx.callActivity(hold);
      await ctx.callActivity(after);
      return "finished";
    });
    const worker = await h.startWorker({ orchestrations: [flow], activities: [hold, after] });
    const id = await h.client.start(flow, undefined);
    await waitFor(() => held.arrivals === 1, "the held activity to start");
    expect((await h.client.getStatus(id))?.runtimeStatus).toBe("Running");

    await h.client.terminate(id, "operator stopped it");
    const status = await h.client.waitForCompletion(id, { timeout: 1_000 });
    expect(status.runtimeStatus).toBe("Terminated");
    expect(status.output).toBe("operator stopped it");
    expect(status.completedAt).toBeInstanceOf(Date);
    const history = await h.client.getHistory(id);
    expect(history.at(-1)).toMatchObject({ type: "ExecutionTerminated", reason: "operator stopped it" });

    // The activity in flight finishes now; its result must not move the instance on.
    held.open();
    await worker.stop();
    expect(afterRuns).toBe(0);
    expect(await h.client.getHistory(id)).toEqual(history);
    expect((await h.client.getStatus(id))?.runtimeStatus).toBe("Terminated");
  });

  it("stops a Pending instance before any worker runs it", async () => {
    h = createHarness();
    let ran = 0;
    const flow = orchestration("never", async () => {
      ran++;
      return "ran";
    });
    const id = await h.client.start(flow, undefined);
    await h.client.terminate(id);
    const status = await h.client.getStatus(id);
    expect(status?.runtimeStatus).toBe("Terminated");
    expect(typeof status?.output).toBe("string");
    // A worker that runs another instance to the end has had every chance to pick this one up.
    const probe = orchestration("probe", async () => "probe");
    await h.startWorker({ orchestrations: [flow, probe] });
    const probeId = await h.client.start(probe, undefined);
    expect((await h.client.waitForCompletion(probeId, { timeout: 15_000 })).output).toBe("probe");
    expect(ran).toBe(0);
    expect((await h.client.getStatus(id))?.runtimeStatus).toBe("Terminated");
  });

  it("refuses to terminate a finished instance with INSTANCE_NOT_ACTIVE", async () => {
    h = createHarness();
    const quick = orchestration("quick", async () => "done");
    await h.startWorker({ orchestrations: [quick] });
    const id = await h.client.start(quick, undefined);
    await h.client.waitForCompletion(id, { timeout: 15_000 });
    const before = await h.client.getHistory(id);
    const error = await h.client.terminate(id, "too late").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceNotActiveError);
    expect((error as InstanceNotActiveError).code).toBe("INSTANCE_NOT_ACTIVE");
    expect((error as InstanceNotActiveError).runtimeStatus).toBe("Completed");
    expect((await h.client.getStatus(id))?.output).toBe("done");
    expect(await h.client.getHistory(id)).toEqual(before);

    // Terminated is finished too. (The worker does not know "waits": it stays Pending.)
    const waits = orchestration("waits", async (ctx) => ctx.waitForEvent("never"));
    await h.client.start(waits, undefined, { instanceId: "stopped" }).then((x) => h.client.terminate(x));
    await expect(h.client.terminate("stopped")).rejects.toMatchObject({ code: "INSTANCE_NOT_ACTIVE" });
  });

  it("fails with INSTANCE_NOT_FOUND for an unknown id", async () => {
    h = createHarness();
    await expect(h.client.terminate("nobody")).rejects.toMatchObject({ code: "INSTANCE_NOT_FOUND" });
  });
});
