import { DEFAULT_QUEUE } from "../definitions/queue.js";
import type { HistoryEvent, IncomingEvent } from "./events.js";

/** How to rewind a failed instance: what to keep of its history and what to run again. */
export interface RewindPlan {
  /** Events to keep: history is cut to its first `keep` events. */
  keep: number;
  /** Results and events recorded after the cut, to deliver again through the inbox. */
  redeliver: IncomingEvent[];
  /** Activity calls to run again: the failed ones and those in flight when the instance failed. */
  activities: { step: number; attempt: number; name: string; input: unknown; queue: string }[];
  /** Timers that had not fired. */
  timers: { step: number; fireAt: number }[];
  /** Sub-orchestrations the instance still waits for, by step. */
  children: { step: number; attempt: number; instanceId: string }[];
  /** Failed sub-orchestrations whose failure is rewound: rewind them too. */
  failedChildren: string[];
}

const INCOMING = new Set<HistoryEvent["type"]>([
  "TaskCompleted",
  "TaskFailed",
  "TimerFired",
  "SubOrchestrationInstanceCompleted",
  "SubOrchestrationInstanceFailed",
  "EventRaised",
]);

type Failure = Extract<HistoryEvent, { type: "TaskFailed" | "SubOrchestrationInstanceFailed" }>;

/**
 * Plans a rewind (Durable Functions' "rewind"): history is cut at the failed call that
 * failed the instance — named by the recorded error's step, else the failures of the final
 * episode — or, when the code itself threw, at the start of the failing episode.
 * Replaying the kept history then leaves the failed calls waiting, so they run again, and
 * every completed call before the cut keeps its recorded result.
 */
export function planRewind(history: readonly HistoryEvent[]): RewindPlan {
  const failedAt = history.findIndex((e) => e.type === "ExecutionFailed");
  const end = failedAt < 0 ? history.length : failedAt;
  const lastEpisode = lastIndexOf(history, end, (e) => e.type === "OrchestratorStarted");
  const all = terminalFailures(history, end);
  // The call whose failure failed the instance, when the recorded error names it; else the
  // failures of the final episode. Failures the code caught earlier and handled stay.
  const causeStep = failingStep(history[failedAt]);
  const culprit = causeStep === undefined ? -1 : lastIndexOf(history, end, (e) => isFailureOf(e, causeStep));
  const terminal = culprit >= 0 ? all.filter((i) => i >= culprit) : all.filter((i) => i > lastEpisode);
  const keep = terminal.length > 0 ? (terminal[0] as number) : Math.max(lastEpisode, 0);
  const terminalSet = new Set(terminal);
  const redeliver = history
    .slice(keep, end)
    .filter((e, i) => INCOMING.has(e.type) && !terminalSet.has(keep + i)) as IncomingEvent[];
  const plan: RewindPlan = { keep, redeliver, activities: [], timers: [], children: [], failedChildren: [] };
  addUnfinishedCalls(history.slice(0, keep), plan);
  for (const index of terminal) {
    const failure = history[index] as Failure;
    if (failure.type === "SubOrchestrationInstanceFailed") {
      const created = lastScheduling(history, index, failure.step);
      if (created?.type === "SubOrchestrationInstanceCreated") plan.failedChildren.push(created.instanceId);
    }
  }
  return plan;
}

/** Indices of failures before `end` that no retry followed, oldest first. */
function terminalFailures(history: readonly HistoryEvent[], end: number): number[] {
  const result: number[] = [];
  for (let i = 0; i < end; i++) {
    const event = history[i] as HistoryEvent;
    if (event.type !== "TaskFailed" && event.type !== "SubOrchestrationInstanceFailed") continue;
    const retried = history
      .slice(i + 1, end)
      .some((later) => later.type === "TimerCreated" && later.step === event.step && later.attempt !== undefined);
    if (!retried) result.push(i);
  }
  return result;
}

/** Calls scheduled in the kept history that have no outcome there: they must run (or be awaited) again. */
function addUnfinishedCalls(kept: readonly HistoryEvent[], plan: RewindPlan): void {
  const open = new Map<number, HistoryEvent>();
  for (const event of kept) {
    switch (event.type) {
      case "TaskScheduled":
      case "TimerCreated":
      case "SubOrchestrationInstanceCreated":
        open.set(event.step, event);
        break;
      case "TaskCompleted":
      case "TaskFailed":
      case "TimerFired":
      case "SubOrchestrationInstanceCompleted":
      case "SubOrchestrationInstanceFailed":
        open.delete(event.step);
        break;
    }
  }
  for (const event of open.values()) {
    if (event.type === "TaskScheduled") {
      const { step, attempt, name, input } = event;
      plan.activities.push({ step, attempt, name, input, queue: event.queue ?? DEFAULT_QUEUE });
    } else if (event.type === "TimerCreated") {
      plan.timers.push({ step: event.step, fireAt: event.fireAt });
    } else if (event.type === "SubOrchestrationInstanceCreated") {
      plan.children.push({ step: event.step, attempt: event.attempt, instanceId: event.instanceId });
    }
  }
}

/** The step of the first failed call in the cause chain of the instance's failure. */
function failingStep(event: HistoryEvent | undefined): number | undefined {
  let failure = event?.type === "ExecutionFailed" ? event.failure : undefined;
  while (failure) {
    if (
      (failure.code === "ACTIVITY_FAILED" || failure.code === "SUB_ORCHESTRATION_FAILED") &&
      failure.step !== undefined
    ) {
      return failure.step;
    }
    failure = failure.cause;
  }
  return undefined;
}

function isFailureOf(event: HistoryEvent, step: number): boolean {
  return (event.type === "TaskFailed" || event.type === "SubOrchestrationInstanceFailed") && event.step === step;
}

function lastIndexOf(history: readonly HistoryEvent[], end: number, test: (e: HistoryEvent) => boolean): number {
  for (let i = end - 1; i >= 0; i--) if (test(history[i] as HistoryEvent)) return i;
  return -1;
}

function lastScheduling(history: readonly HistoryEvent[], before: number, step: number): HistoryEvent | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const event = history[i] as HistoryEvent;
    if ((event.type === "TaskScheduled" || event.type === "SubOrchestrationInstanceCreated") && event.step === step) {
      return event;
    }
  }
  return undefined;
}
