import { performance as perfHooks } from "node:perf_hooks";
import type { BenchConfig, Durability } from "../config.js";
import { commitsPerWorkflow, type Engine, runWorkflow, startEngine } from "../engine.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";

/**
 * `inFlight` callers, each starting its next workflow as soon as its last one completed,
 * until `throughputTotal` have completed: workflows per second with the pipeline full.
 */
export async function engineThroughput(
  durability: Durability,
  inFlight: number,
  config: BenchConfig,
): Promise<Measurement> {
  const engine = await startEngine(durability);
  try {
    await keepInFlight(engine, inFlight, config.throughputWarmup);
    const before = engine.commits();
    const cpuBefore = process.cpuUsage();
    const loopBefore = perfHooks.eventLoopUtilization();
    const started = performance.now();
    const latencies = await keepInFlight(engine, inFlight, config.throughputTotal);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const loop = perfHooks.eventLoopUtilization(loopBefore);
    return {
      kind: "engine-throughput",
      durability,
      inFlight,
      workflows: config.throughputTotal,
      seconds,
      workflowsPerSecond: config.throughputTotal / seconds,
      latencyMs: summarize(latencies),
      commits: commitsPerWorkflow(before, engine.commits(), config.throughputTotal),
      cpuMicrosPerWorkflow: (cpu.user + cpu.system) / config.throughputTotal,
      eventLoopBusy: loop.utilization,
    };
  } finally {
    await engine.dispose();
  }
}

/** Runs `total` workflows with `inFlight` of them running at any time; returns their latencies. */
async function keepInFlight(engine: Engine, inFlight: number, total: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      const t = performance.now();
      await runWorkflow(engine, n);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, caller));
  return latencies;
}
