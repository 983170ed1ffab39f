import type { BenchConfig } from "../config.js";
import { startEngine } from "../engine.js";
import { type MemoryPeaks, MemorySampler } from "../memory.js";
import { median } from "../stats.js";
import { fanOut, fanOutSum, plainFanOut } from "../workflow.js";

/** One round of the fan-out scenario: the engine's run, or the plain calls' median run. */
export interface FanOutResult {
  kind: "engine" | "plain";
  activities: number;
  round: number;
  /** Start to completion, in milliseconds (for the plain calls: the median of `runs`). */
  wallMs: number;
  memory: MemoryPeaks;
  /** Store commits from `client.start` to completion; only for the engine. */
  commits?: number;
  /** History events of the finished instance; only for the engine. */
  historyEvents?: number;
  /** Runs timed in the round: 1 for the engine. */
  runs: number;
}

/** Plain runs per round: one takes a fraction of a millisecond, so one alone would be noise. */
const PLAIN_RUNS = 101;
const PLAIN_WARMUP = 20;

/**
 * One workflow fanning out to `config.fanOut` activities with `ctx.all`, on a fresh store
 * with durability "full" and default worker options, after a small warm-up fan-out on the
 * same engine. Memory is sampled from just before `client.start` to completion.
 */
export async function engineFanOut(
  config: BenchConfig,
  round: number,
  collectGarbage: () => void,
): Promise<FanOutResult> {
  const engine = await startEngine("full");
  try {
    await runFanOut(engine, config.fanOutWarmup);
    collectGarbage();
    const commitsBefore = engine.store.commitCount;
    const memory = new MemorySampler();
    // Sample after every commit too: the heaviest moments are synchronous and starve the timer.
    const unsubscribe = engine.store.subscribe(() => memory.sample());
    const started = performance.now();
    let id: string;
    try {
      id = await runFanOut(engine, config.fanOut);
    } finally {
      unsubscribe();
    }
    const wallMs = performance.now() - started;
    const peaks = memory.stop();
    const commits = engine.store.commitCount - commitsBefore;
    const history = await engine.client.getHistory(id);
    return {
      kind: "engine",
      activities: config.fanOut,
      round,
      wallMs,
      memory: peaks,
      commits,
      historyEvents: history.length,
      runs: 1,
    };
  } finally {
    await engine.dispose();
  }
}

async function runFanOut(engine: Awaited<ReturnType<typeof startEngine>>, n: number): Promise<string> {
  const id = await engine.client.start(fanOut, n);
  const status = await engine.client.waitForCompletion<number, number>(id);
  if (status.runtimeStatus !== "Completed" || status.output !== fanOutSum(n)) {
    throw new Error(`fan-out ${id} ended ${status.runtimeStatus} with ${JSON.stringify(status.output)}`);
  }
  return id;
}

/** The same 1,000 trivial async calls with `Promise.all`, no engine: the median of 101 runs. */
export async function plainFanOutRound(
  config: BenchConfig,
  round: number,
  collectGarbage: () => void,
): Promise<FanOutResult> {
  for (let i = 0; i < PLAIN_WARMUP; i++) await plainFanOut(config.fanOut);
  collectGarbage();
  const memory = new MemorySampler();
  const times: number[] = [];
  for (let i = 0; i < PLAIN_RUNS; i++) {
    // From a collected heap each time, so the peak shows one run's allocations, not 101 runs' garbage.
    collectGarbage();
    const t = performance.now();
    const sum = await plainFanOut(config.fanOut);
    times.push(performance.now() - t);
    // The calls never yield to the timer: sample by hand after each run.
    memory.sample();
    if (sum !== fanOutSum(config.fanOut)) throw new Error(`plainFanOut returned ${sum}`);
  }
  return {
    kind: "plain",
    activities: config.fanOut,
    round,
    wallMs: median(times),
    memory: memory.stop(),
    runs: PLAIN_RUNS,
  };
}
