import { orchestration } from "perdure";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";

/** Three generations; the youngest waits for "go", the others for their child. */
const grandchild = orchestration("grandchild", async (ctx) => ctx.waitForEvent<string>("go"));
const child = orchestration("child", async (ctx) => ctx.callSubOrchestration(grandchild));
const parent = orchestration("parent", async (ctx) => ctx.callSubOrchestration(child));

describe("terminate and sub-orchestrations", () => {
  let env: PatternEnv | undefined;
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });

  async function startFamily(): Promise<void> {
    env = openEnv();
    await env.startWorker({ orchestrations: [parent, child, grandchild] });
    await env.client.start(parent, undefined, { instanceId: "p" });
    await waitFor(async () => (await env?.client.getStatus("p:1:1"))?.runtimeStatus === "Running", "the grandchild");
  }

  it("{ recursive: true } terminates the running children and theirs", async () => {
    await startFamily();
    await env?.client.terminate("p", "stop everything", { recursive: true });
    for (const id of ["p", "p:1", "p:1:1"]) {
      const status = await env?.client.getStatus(id);
      expect(status?.runtimeStatus).toBe("Terminated");
      expect(status?.output).toBe("stop everything");
      expect((await env?.client.getHistory(id))?.at(-1)).toMatchObject({ type: "ExecutionTerminated" });
    }
  });

  it("without it, the children keep running and can still complete", async () => {
    await startFamily();
    const e = env as PatternEnv;
    await e.client.terminate("p", "stop the parent only");
    expect((await e.client.getStatus("p"))?.runtimeStatus).toBe("Terminated");
    expect((await e.client.getStatus("p:1"))?.runtimeStatus).toBe("Running");
    await e.client.raiseEvent("p:1:1", "go", "finished anyway");
    expect((await e.client.waitForCompletion("p:1", { timeout: 15_000 })).output).toBe("finished anyway");
    // The child's result does not bring the terminated parent back.
    const parentStatus = await e.client.getStatus("p");
    expect(parentStatus?.runtimeStatus).toBe("Terminated");
    expect(parentStatus?.output).toBe("stop the parent only");
  });
});
