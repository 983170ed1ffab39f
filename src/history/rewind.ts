import { DEFAULT_QUEUE } from "../definitions/queue.js";
import type { EntityRef } from "../entities/events.js";
import { RewindNotPossibleError } from "../errors/errors.js";
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
  /** What the entity side of the store must do (see EntityRewind). */
  entities: EntityRewind;
}

/**
 * Entity calls and the critical section at the cut. The instance's failure released its
 * locks and dropped its lock requests; its operations already sent stay queued, and each
 * answer that reached no running execution was dropped.
 */
export interface EntityRewind {
  /** Calls whose failure is rewound: send them again (a failed operation left the state as it was). */
  resend: { step: number; name: string; key: string; operation: string; input: unknown }[];
  /** Calls sent before the cut with no recorded outcome: their answer is still queued, in the inbox, or lost. */
  awaited: { step: number; name: string; key: string; operation: string }[];
  /** The critical section open at the cut: `held` if its lock had been granted (take it again), else ask again. */
  section?: { step: number; entities: EntityRef[]; held: boolean };
}

const INCOMING = new Set<HistoryEvent["type"]>([
  "TaskCompleted",
  "TaskFailed",
  "TimerFired",
  "SubOrchestrationInstanceCompleted",
  "SubOrchestrationInstanceFailed",
  "EventRaised",
]);

/** Failures that rewind undoes: activities and sub-orchestrations run again, entity calls are sent again. */
const FAILURES = new Set<HistoryEvent["type"]>([
  "TaskFailed",
  "SubOrchestrationInstanceFailed",
  "EntityOperationFailed",
]);
/** Failures whose recorded error names the step of the call (see failingStep). */
const FAILURE_CODES = new Set(["ACTIVITY_FAILED", "SUB_ORCHESTRATION_FAILED", "ENTITY_OPERATION_FAILED"]);

/**
 * Plans a rewind (Durable Functions' "rewind"): history is cut at the failed call that
 * failed the instance — named by the recorded error's step, else the failures of the final
 * episode — or, when the code itself threw, at the start of the failing episode.
 * Replaying the kept history then leaves the failed calls waiting, so they run again, and
 * every completed call before the cut keeps its recorded result.
 *
 * Entity operations are not idempotent, so none is sent twice: an operation sent after the
 * cut that did not fail would be sent again by replay, and such a rewind is refused
 * (RewindNotPossibleError) rather than planned.
 */
export function planRewind(history: readonly HistoryEvent[], instanceId: string): RewindPlan {
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
  const kept = history.slice(0, keep);
  const keptEntityCalls = new Set(kept.flatMap((e) => (e.type === "EntityCallScheduled" ? [e.step] : [])));
  const redeliver = history.slice(keep, end).filter((e, i) => {
    if (terminalSet.has(keep + i)) return false;
    // An entity call's outcome goes back to a call kept in history. A lock granted after the
    // cut is not: the store released it with the failure, so the section asks again.
    if (e.type === "EntityOperationCompleted" || e.type === "EntityOperationFailed") return keptEntityCalls.has(e.step);
    return INCOMING.has(e.type);
  }) as IncomingEvent[];
  const plan: RewindPlan = {
    keep,
    redeliver,
    activities: [],
    timers: [],
    children: [],
    failedChildren: [],
    entities: { resend: [], awaited: [] },
  };
  checkEntityActionsAfterCut(history, keep, end, instanceId);
  addUnfinishedCalls(kept, plan);
  addEntityWork(history, keep, end, terminalSet, plan);
  for (const index of terminal) {
    const failure = history[index] as HistoryEvent;
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
    if (event.type !== "TaskFailed" && event.type !== "SubOrchestrationInstanceFailed") {
      // Entity calls are not retried: every failure of one is terminal.
      if (event.type === "EntityOperationFailed") result.push(i);
      continue;
    }
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
    if (failure.code !== undefined && FAILURE_CODES.has(failure.code) && failure.step !== undefined) {
      return failure.step;
    }
    failure = failure.cause;
  }
  return undefined;
}

function isFailureOf(event: HistoryEvent, step: number): boolean {
  return FAILURES.has(event.type) && "step" in event && event.step === step;
}

/**
 * Entity operations recorded after the cut were sent, and replay would send them again: a
 * signal, or a call that did not fail, would then apply twice. Only lock requests and
 * releases (which the failure undid in the store) and failed calls may be sent again.
 */
function checkEntityActionsAfterCut(history: readonly HistoryEvent[], keep: number, end: number, id: string): void {
  for (let i = keep; i < end; i++) {
    const event = history[i] as HistoryEvent;
    if (event.type !== "EntitySignalSent" && event.type !== "EntityCallScheduled") continue;
    const { step, operation, name, key } = event;
    if (event.type === "EntityCallScheduled" && failedLater(history, i, end, step)) continue;
    const what = event.type === "EntitySignalSent" ? "signalled" : "called";
    throw new RewindNotPossibleError(
      id,
      `it ${what} operation "${operation}" of entity ${name}@${key} at step ${step} after the failed call where ` +
        "rewind must cut its history, and replaying would send that operation a second time",
      { step },
    );
  }
}

function failedLater(history: readonly HistoryEvent[], from: number, end: number, step: number): boolean {
  for (let i = from + 1; i < end; i++) {
    const event = history[i] as HistoryEvent;
    if ((event.type === "EntityOperationFailed" || event.type === "EntityOperationCompleted") && event.step === step) {
      return event.type === "EntityOperationFailed";
    }
  }
  return false;
}

/** The entity calls left open by the cut, and the critical section it falls in. */
function addEntityWork(
  history: readonly HistoryEvent[],
  keep: number,
  end: number,
  terminal: ReadonlySet<number>,
  plan: RewindPlan,
): void {
  const open = new Map<number, Extract<HistoryEvent, { type: "EntityCallScheduled" }>>();
  let section: EntityRewind["section"];
  for (const event of history.slice(0, keep)) {
    switch (event.type) {
      case "EntityCallScheduled":
        open.set(event.step, event);
        break;
      case "EntityOperationCompleted":
      case "EntityOperationFailed":
        open.delete(event.step);
        break;
      case "EntityLockRequested":
        section = { step: event.step, entities: event.entities, held: false };
        break;
      case "EntityLockGranted":
        if (section?.step === event.step) section.held = true;
        break;
      case "EntityUnlockSent":
        section = undefined;
        break;
    }
  }
  if (section) plan.entities.section = section;
  for (const call of open.values()) {
    const { step, name, key, operation } = call;
    let outcome = -1;
    for (let i = keep; i < end && outcome < 0; i++) {
      const event = history[i] as HistoryEvent;
      if (
        (event.type === "EntityOperationCompleted" || event.type === "EntityOperationFailed") &&
        event.step === step
      ) {
        outcome = i;
      }
    }
    // A kept outcome after the cut is redelivered; a rewound failure is sent again.
    if (outcome < 0) plan.entities.awaited.push({ step, name, key, operation });
    else if (terminal.has(outcome)) plan.entities.resend.push({ step, name, key, operation, input: call.input });
  }
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
