import type { HistoryEvent } from "../../src/index.js";
import { applyStep, type LogLine, STEPS } from "./crashWorkflow.js";

/**
 * Checks the activity log of one instance against the worker processes that were killed
 * (or that abandoned work in flight) while they ran it, and returns what is wrong (empty
 * when all is well).
 *
 * What a kill can do to a step follows from the last line the killed process wrote for
 * the instance:
 * - "start k": step k was in flight and its result was never recorded, so it must run
 *   again: one more start.
 * - "end k": step k had finished but its commit may or may not have landed: zero or one
 *   more start.
 * Every other step ran exactly once: the steps before k were recorded (step k was only
 * scheduled by the commit that recorded k-1), the steps after k had not begun.
 * Every start of one step must carry the same idempotency key.
 */
export function activityLogProblems(lines: LogLine[], instanceId: string, killedPids: number[]): string[] {
  const mine = lines.filter((l) => l.instanceId === instanceId);
  const lastLineOf = (pid: number): LogLine | undefined => mine.filter((l) => l.pid === pid).at(-1);
  const problems: string[] = [];
  for (let step = 1; step <= STEPS; step++) {
    const starts = mine.filter((l) => l.event === "start" && l.step === step);
    const inFlight = killedPids.filter((pid) => {
      const last = lastLineOf(pid);
      return last?.step === step && last.event === "start";
    }).length;
    const justEnded = killedPids.filter((pid) => {
      const last = lastLineOf(pid);
      return last?.step === step && last.event === "end";
    }).length;
    const min = 1 + inFlight;
    const max = 1 + inFlight + justEnded;
    if (starts.length < min || starts.length > max) {
      problems.push(
        `${instanceId} step ${step}: ${starts.length} starts, expected ${min === max ? min : `${min}..${max}`} ` +
          `(${inFlight} kills in flight, ${justEnded} right after its end)`,
      );
    }
    const keys = new Set(starts.map((l) => l.idempotencyKey));
    if (keys.size > 1) problems.push(`${instanceId} step ${step}: idempotency keys differ: ${[...keys].join(", ")}`);
  }
  return problems;
}

/**
 * Checks an instance's history: exactly one TaskCompleted per step, none twice, with the
 * results the chain computes from `input`. Returns what is wrong.
 */
export function historyProblems(history: HistoryEvent[], instanceId: string, input: number): string[] {
  const completed = history.filter((e) => e.type === "TaskCompleted");
  const problems: string[] = [];
  if (completed.length !== STEPS) problems.push(`${instanceId}: ${completed.length} TaskCompleted, expected ${STEPS}`);
  const steps = new Set(completed.map((e) => e.step));
  if (steps.size !== completed.length) problems.push(`${instanceId}: a step completed twice`);
  let n = input;
  completed.forEach((event, i) => {
    n = applyStep(i + 1, n);
    if (event.result !== n)
      problems.push(`${instanceId}: step ${i + 1} recorded ${String(event.result)}, expected ${n}`);
  });
  return problems;
}
