/** How much work the PostgreSQL benchmark does. `BENCH_QUICK=1` shrinks it to a smoke run. */
export interface PgBenchConfig {
  quick: boolean;
  /** Rounds of every scenario; the median round is reported. */
  rounds: number;
  /** Workflows run one at a time before the sequential measurement. */
  warmup: number;
  /** Workflows measured one at a time. */
  sequential: number;
  /** Workflows run at the same concurrency before a throughput measurement. */
  throughputWarmup: number;
  /** Workflows completed per throughput measurement. */
  throughputTotal: number;
  /** Workflows kept in flight in the throughput scenarios. */
  inFlight: readonly number[];
  /** Perdure worker process counts; 0 is embedded (worker and client in the bench process). */
  workers: readonly number[];
}

export function pgBenchConfig(): PgBenchConfig {
  const quick = process.env.BENCH_QUICK === "1";
  const workers = [0, 1, 2, 4];
  return quick
    ? {
        quick,
        rounds: 1,
        warmup: 10,
        sequential: 40,
        throughputWarmup: 50,
        throughputTotal: 400,
        inFlight: [50, 500],
        workers,
      }
    : {
        quick,
        rounds: 3,
        warmup: 30,
        sequential: 200,
        throughputWarmup: 300,
        throughputTotal: 2000,
        inFlight: [50, 500],
        workers,
      };
}
