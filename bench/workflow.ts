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

/** The fan-out workflow: `n` activities at once (`ctx.all`), their results summed. */
export const fanOut = orchestration("bench.fanOut", async (ctx, n: number) => {
  const results = await ctx.all(Array.from({ length: n }, (_, i) => ctx.callActivity(addOne, i)));
  return results.reduce((sum, value) => sum + value, 0);
});

/** What `fanOut` and `plainFanOut` return for `n`: the sum of 1..n. */
export function fanOutSum(n: number): number {
  return (n * (n + 1)) / 2;
}

/** The same fan-out as plain async calls with `Promise.all`: no engine, no store. */
export async function plainFanOut(n: number): Promise<number> {
  const results = await Promise.all(Array.from({ length: n }, (_, i) => plainAddOne(i)));
  return results.reduce((sum, value) => sum + value, 0);
}
