import { afterEach, describe, expect, it } from "vitest";
import { activity, createClient, createWorker, orchestration, silentLogger } from "../src/index.js";
import { tempStore } from "./helpers/tempStore.js";

const double = activity("double", async (n: number) => n * 2);
const chain = orchestration("chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(double, n);
  const b = await ctx.callActivity(double, a);
  const c = await ctx.callActivity(double, b);
  return c;
});

describe("smoke", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("runs a chain", async () => {
    const t = tempStore();
    const worker = createWorker({
      store: t.store,
      orchestrations: [chain],
      activities: [double],
      logger: silentLogger,
      handleSignals: false,
    });
    cleanups.push(t.dispose, () => worker.stop());
    await worker.start();
    const client = createClient({ store: t.store });
    const before = t.store.commitCount;
    const id = await client.start(chain, 1);
    const status = await client.waitForCompletion<number, number>(id, { timeout: 5000 });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(8);
    expect(t.store.commitCount - before).toBe(5);
    const history = await client.getHistory(id);
    console.log(history.map((e) => e.type).join(","));
  });
});
