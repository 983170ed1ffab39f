import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { activity, orchestration } from "../../src/index.js";

/** Activities in the fault tests' chain. */
export const STEPS = 3;

/** One line of the activity log: an activity starting ("s") or ending ("e") in a process. */
export interface ActivityLogLine {
  e: "s" | "e";
  /** Instance id. */
  i: string;
  /** Step of the chain, 1..STEPS. */
  s: number;
  /** The activity's idempotency key: the same for every run of one step. */
  k: string;
  /** The process that ran it: its PROCESS_TAG (unique per process, unlike a pid, which the kernel reuses), or its pid. */
  p: string;
  /** When (ms since the epoch). */
  t: number;
}

/** What step `step` (1-based) does to its input; pure, so that the test can recompute it. */
export function applyStep(step: number, n: number): number {
  return step % 2 === 1 ? n + step * 10 : n * 3;
}

/** The output the chain must produce for `input`. */
export function expectedOutput(input: number): number {
  let n = input;
  for (let step = 1; step <= STEPS; step++) n = applyStep(step, n);
  return n;
}

/**
 * The chain of the fault tests: STEPS activities, each logging its start and end to
 * `logFile` and staying in flight `stepMs` in between. The log is appended with one
 * write(2) per line and no fsync: a SIGKILL loses nothing the kernel already has, and the
 * tests kill processes, not the machine.
 */
export function faultWorkflow(logFile: string, stepMs: number) {
  const processTag = process.env.PROCESS_TAG ?? String(process.pid);
  const steps = Array.from({ length: STEPS }, (_, i) => {
    const step = i + 1;
    return activity(`fault.step${step}`, async (n: number, ctx) => {
      const line = { i: ctx.instanceId, s: step, k: ctx.idempotencyKey, p: processTag };
      appendFileSync(logFile, `${JSON.stringify({ e: "s", ...line, t: Date.now() })}\n`);
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      appendFileSync(logFile, `${JSON.stringify({ e: "e", ...line, t: Date.now() })}\n`);
      return applyStep(step, n);
    });
  });
  const chain = orchestration("fault.chain", async (ctx, input: number) => {
    let n = input;
    for (const step of steps) n = await ctx.callActivity(step, n);
    return n;
  });
  return { chain, steps };
}

/** The activity log. Each line was one small O_APPEND write(2): a kill cannot tear it. */
export function readActivityLog(logFile: string): ActivityLogLine[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((text) => text !== "")
    .map((text) => JSON.parse(text) as ActivityLogLine);
}
