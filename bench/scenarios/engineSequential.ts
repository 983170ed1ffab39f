import type { BenchConfig, Durability } from "../config.js";
import { commitsPerWorkflow, runWorkflow, startEngine } from "../engine.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";

/** One workflow at a time, start → waitForCompletion: the latency a lone caller sees. */
export async function engineSequential(durability: Durability, config: BenchConfig): Promise<Measurement> {
  const engine = await startEngine(durability);
  try {
    for (let i = 0; i < config.warmup; i++) await runWorkflow(engine, i);
    const before = engine.commits();
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < config.sequential; i++) {
      const t = performance.now();
      await runWorkflow(engine, i);
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      kind: "engine-sequential",
      durability,
      inFlight: 1,
      workflows: config.sequential,
      seconds,
      workflowsPerSecond: config.sequential / seconds,
      latencyMs: summarize(latencies),
      commits: commitsPerWorkflow(before, engine.commits(), config.sequential),
    };
  } finally {
    await engine.dispose();
  }
}
