/** How much work each scenario does. `BENCH_QUICK=1` shrinks everything for a smoke run. */
export interface BenchConfig {
  quick: boolean;
  /** Rounds of every scenario; the median round is reported. */
  rounds: number;
  /** Workflows run (and thrown away) before a sequential measurement starts. */
  warmup: number;
  /** Workflows measured one at a time. */
  sequential: number;
  /** Workflows completed per throughput measurement. */
  throughputTotal: number;
  /** Workflows run at the same concurrency before a throughput measurement starts. */
  throughputWarmup: number;
  /** Workflows kept in flight in the throughput scenarios. */
  inFlight: readonly number[];
  durabilities: readonly Durability[];
  /** Activities the fan-out workflow calls at once (durability "full", one run per round). */
  fanOut: number;
  /** Activities of the small fan-out run (and discarded) before each measured one. */
  fanOutWarmup: number;
  /** Instances the listing scenario puts in its store. */
  listInstances: number;
  /** Times each listing query is measured (engine and baselines alternating). */
  listIterations: number;
}

export type Durability = "full" | "normal";

/** The configuration for this run, from the environment. */
export function benchConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === "1";
  // BENCH_DURABILITY=full (or normal) measures one durability only, e.g. under a profiler.
  const only = process.env.BENCH_DURABILITY;
  const durabilities: Durability[] = only === "full" || only === "normal" ? [only] : ["full", "normal"];
  return quick
    ? {
        quick,
        rounds: 1,
        warmup: 10,
        sequential: 50,
        throughputTotal: 500,
        throughputWarmup: 50,
        inFlight: [50, 500],
        durabilities,
        fanOut: 1000,
        fanOutWarmup: 100,
        listInstances: 10_000,
        listIterations: 30,
      }
    : {
        quick,
        rounds: 5,
        warmup: 50,
        sequential: 300,
        throughputTotal: 3000,
        throughputWarmup: 300,
        inFlight: [50, 500],
        durabilities,
        fanOut: 1000,
        fanOutWarmup: 100,
        listInstances: 100_000,
        listIterations: 300,
      };
}
