import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { type ActivityContext, activity, orchestration } from "../../src/index.js";

/** The number of sequential activities of the crash-test workflow. */
export const STEPS = 4;

/** One line of the activity log the worker writes: a step starting or ending. */
export interface LogLine {
  event: "start" | "end";
  instanceId: string;
  /** 1..STEPS: which activity of the chain. */
  step: number;
  attempt: number;
  idempotencyKey: string;
  pid: number;
}

/** What step `step` (1-based) does to its input; pure so that the test can recompute it. */
export function applyStep(step: number, n: number): number {
  return step % 2 === 1 ? n + step : n * step;
}

/** The output the workflow must produce for `input`: the steps applied in order. */
export function expectedOutput(input: number): number {
  let n = input;
  for (let step = 1; step <= STEPS; step++) n = applyStep(step, n);
  return n;
}

/** Appends one line and forces it to disk, so that a SIGKILL right after cannot lose it. */
function appendDurably(file: string, line: LogLine): void {
  const fd = openSync(file, "a");
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The workflow of the crash tests: STEPS activities in a chain, each logging its start and
 * end to `logFile` and staying in flight for `stepMs` in between, so a kill can land inside.
 */
export function crashWorkflow(logFile: string, stepMs: number) {
  const log = (event: LogLine["event"], step: number, ctx: ActivityContext): void =>
    appendDurably(logFile, {
      event,
      instanceId: ctx.instanceId,
      step,
      attempt: ctx.attempt,
      idempotencyKey: ctx.idempotencyKey,
      pid: process.pid,
    });
  const steps = Array.from({ length: STEPS }, (_, i) => {
    const step = i + 1;
    return activity(`step${step}`, async (n: number, ctx) => {
      log("start", step, ctx);
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      log("end", step, ctx);
      return applyStep(step, n);
    });
  });
  const chain = orchestration("crashChain", async (ctx, input: number) => {
    let n = input;
    for (const step of steps) n = await ctx.callActivity(step, n);
    return n;
  });
  return { chain, steps };
}
