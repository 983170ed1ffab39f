import type { BenchConfig, Durability } from "../config.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";
import { plainChain } from "../workflow.js";

/**
 * The three activities as plain chained async calls: no store, no engine. The figure is
 * mostly timer overhead; it shows how little of the engine's latency is the work itself.
 */
export async function plainCalls(durability: Durability, config: BenchConfig): Promise<Measurement> {
  for (let i = 0; i < config.warmup; i++) await plainChain(i);
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < config.sequential; i++) {
    const t = performance.now();
    const result = await plainChain(i);
    latencies.push(performance.now() - t);
    if (result !== i + 3) throw new Error(`plainChain(${i}) returned ${result}`);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    kind: "plain",
    // Durability does not apply; it is recorded so the row sits in its table.
    durability,
    inFlight: 1,
    workflows: config.sequential,
    seconds,
    workflowsPerSecond: config.sequential / seconds,
    latencyMs: summarize(latencies),
  };
}
