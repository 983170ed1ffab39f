import type { BenchConfig, Durability } from "../config.js";
import { commitsPerWorkflow, type Engine, runWorkflow, startEngine } from "../engine.js";
import type { Measurement } from "../result.js";
import { summarize } from "../stats.js";
import { countWalFrames, FRAME_COUNT_WORKFLOWS } from "../walFrames.js";

/** Pages (WAL frames) an engine commit writes, over sequential workflows run untimed. */
async function countPagesPerCommit(engine: Engine): Promise<number> {
  const before = engine.commits();
  const frames = await countWalFrames(engine.file, async () => {
    for (let i = 0; i < FRAME_COUNT_WORKFLOWS; i++) await runWorkflow(engine, i);
  });
  const commits = commitsPerWorkflow(before, engine.commits(), FRAME_COUNT_WORKFLOWS);
  return frames / FRAME_COUNT_WORKFLOWS / (commits.client + commits.worker);
}

/**
 * How many pages a sequential workflow's commits write, on average: what the raw baseline
 * "of engine size" writes per transaction. Pages do not depend on the durability setting.
 */
export async function enginePagesPerCommit(config: BenchConfig): Promise<number> {
  const engine = await startEngine("normal");
  try {
    for (let i = 0; i < config.warmup; i++) await runWorkflow(engine, i);
    return await countPagesPerCommit(engine);
  } finally {
    await engine.dispose();
  }
}

/** One workflow at a time, start → waitForCompletion: the latency a lone caller sees. */
export async function engineSequential(durability: Durability, config: BenchConfig): Promise<Measurement> {
  const engine = await startEngine(durability);
  try {
    for (let i = 0; i < config.warmup; i++) await runWorkflow(engine, i);
    const pagesPerCommit = await countPagesPerCommit(engine);
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
      pagesPerCommit,
    };
  } finally {
    await engine.dispose();
  }
}
