/** Runs one workflow with input `n` to completion; throws if its result is wrong. */
export type RunOne = (n: number) => Promise<void>;

/** What one driven batch measured: start-to-completion latency of each workflow, and the wall time. */
export interface Driven {
  latencies: number[];
  seconds: number;
}

/**
 * `inFlight` callers, each starting its next workflow as soon as its last one completed,
 * until `total` have completed. With one caller: the sequential latency a lone caller sees.
 */
export async function drive(run: RunOne, inFlight: number, total: number, firstInput = 0): Promise<Driven> {
  const latencies: number[] = [];
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) {
      const n = firstInput + next++;
      const t = performance.now();
      await run(n);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, caller));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
