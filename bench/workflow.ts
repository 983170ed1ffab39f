import { activity, orchestration } from "perdure";

/** A trivial activity: the benchmark measures the engine, not the work. */
export const addOne = activity("bench.addOne", async (n: number) => n + 1);

/** The workflow every engine scenario runs: three activities, each fed the previous result. */
export const chain = orchestration("bench.chain", async (ctx, n: number) => {
  const a = await ctx.callActivity(addOne, n);
  const b = await ctx.callActivity(addOne, a);
  return ctx.callActivity(addOne, b);
});

async function plainAddOne(n: number): Promise<number> {
  return n + 1;
}

/** The same chain without the engine: the floor of what a workflow can cost. */
export async function plainChain(n: number): Promise<number> {
  const a = await plainAddOne(n);
  const b = await plainAddOne(a);
  return plainAddOne(b);
}
