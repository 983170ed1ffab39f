import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { nextRetryDelay } from "../definitions/retryPolicy.js";
import { type EntityAction, isEntityAction, isOneWayEntityAction } from "../entities/entityActions.js";
import { deliverEntityEvent, OrchestrationEntities } from "../entities/orchestrationEntities.js";
import { NonDeterminismError, NonDurableAwaitError } from "../errors/errors.js";
import {
  ActivityFailedError,
  type FailureDetails,
  fromFailureDetails,
  SubOrchestrationFailedError,
  toFailureDetails,
} from "../errors/failure.js";
import {
  type DurableCallEvent,
  describeEvent,
  type HistoryEvent,
  type IncomingEvent,
  type ParentLink,
} from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import { type Action, actionMatches, actionToEvent, type Call, describeAction, type RetryableCall } from "./calls.js";
import type { OrchestrationContext } from "./context.js";
import { ContextApi } from "./contextApi.js";
import { DeterministicSource } from "./deterministic.js";
import { type DurableTask, TimerTask } from "./durableTask.js";
import type { Logger } from "./logger.js";

/** Failure codes that no retry can cure. */
const NOT_RETRYABLE = new Set(["UNKNOWN_ACTIVITY", "UNKNOWN_ORCHESTRATION", "NOT_SERIALIZABLE"]);

import { type EpisodeOutcome, type EpisodeResult, type ExecutorOptions, endEvent, retryAction } from "./episode.js";

const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs one orchestration instance: rebuilds its state by replaying history, then advances
 * it episode by episode as results arrive. Kept in memory by the worker while it owns the
 * instance, so that a live instance is never replayed.
 *
 * The code's durable calls become actions; a replayed history event confirms the action at
 * its step (or raises NonDeterminismError); actions still unconfirmed when history runs out
 * are new, and are recorded by the next commit.
 */
export class OrchestrationExecutor {
  /** Calls by step; a call is forgotten once it settles. */
  readonly calls = new Map<number, Call>();
  /** Unconfirmed actions by step, in the order the code made them. */
  readonly pending = new Map<number, Action>();
  /** Events raised to the instance that no waiter has taken yet, oldest first. */
  readonly bufferedEvents: { name: string; input: unknown }[] = [];
  readonly eventWaiters: { name: string; task: DurableTask<unknown>; timeout?: TimerTask }[] = [];
  /** Patch ids recorded in history (so replay takes the branch the original run took). */
  readonly recordedPatches = new Set<string>();
  /** Open entity calls and the critical section. */
  readonly entities = new OrchestrationEntities();
  /** What `ctx.patched(id)` answered in this execution: the first answer sticks. */
  readonly patchDecisions = new Map<string, boolean>();
  readonly newPatches: string[] = [];
  cancelledTimers: number[] = [];
  nextStep = 1;
  replaying = true;
  currentTime = 0;
  customStatus: unknown = undefined;
  customStatusChanged = false;
  continued: { input: unknown; preserveUnprocessedEvents: boolean } | undefined;
  parent: ParentLink | undefined;
  deterministic: DeterministicSource;
  private readonly openTasks = new Set<DurableTask<unknown>>();
  private started = false;
  private settled: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  private readonly context: OrchestrationContext;

  constructor(
    private readonly definition: OrchestrationDefinition<unknown, unknown>,
    readonly instanceId: string,
    logger: Logger,
    readonly options: ExecutorOptions = {},
  ) {
    this.deterministic = new DeterministicSource(instanceId);
    this.context = new ContextApi(this, definition.name, logger);
  }

  /** True once the orchestration function has returned or thrown, or continued as new. */
  get isFinished(): boolean {
    return this.settled !== undefined || this.continued !== undefined;
  }

  /** Rebuilds the in-memory state from recorded history. Throws NonDeterminismError on divergence. */
  async replay(history: readonly HistoryEvent[]): Promise<void> {
    this.replaying = true;
    for (const event of history) if (event.type === "PatchApplied") this.recordedPatches.add(event.patchId);
    for (const event of history) await this.apply(event);
    this.customStatusChanged = false;
    this.cancelledTimers = [];
  }

  /**
   * Feeds new incoming events to the orchestration and collects what it does in response.
   * Incoming events that no longer apply (a duplicate result) are dropped, not recorded.
   */
  async runEpisode(incoming: readonly IncomingEvent[], now: number): Promise<EpisodeResult> {
    this.replaying = false;
    this.customStatusChanged = false;
    this.cancelledTimers = [];
    const marker: HistoryEvent = { type: "OrchestratorStarted", timestamp: now };
    await this.apply(marker);
    const accepted: HistoryEvent[] = [];
    for (const event of incoming) {
      if (this.isFinished) break;
      if (await this.apply(event)) accepted.push(event);
    }
    const actions = [...this.pending.values()];
    this.pending.clear();
    const entityActions: EntityAction[] = [];
    const result: EpisodeResult = {
      newEvents: [],
      activities: [],
      timers: [],
      subOrchestrations: [],
      entityActions,
      cancelledTimers: this.cancelledTimers,
      outcome: this.outcome(),
      customStatus: this.customStatus,
      customStatusChanged: this.customStatusChanged,
    };
    const patches = this.newPatches
      .splice(0)
      .map((patchId): HistoryEvent => ({ type: "PatchApplied", timestamp: now, patchId }));
    const recorded: HistoryEvent[] = [...accepted, ...patches];
    if (result.outcome.status === "Running") {
      for (const action of actions) {
        recorded.push(actionToEvent(action, now));
        if (isEntityAction(action)) entityActions.push(action);
        else if (action.kind === "scheduleActivity") result.activities.push(action);
        else if (action.kind === "createTimer") result.timers.push(action);
        else result.subOrchestrations.push(action);
      }
      if (!this.isWaitingOnDurableWork()) {
        this.settled = { ok: false, error: new NonDurableAwaitError(this.instanceId) };
        result.outcome = this.outcome();
      }
    } else if (result.outcome.status !== "Failed") {
      // Signals (and lock releases) are one-way: the episode that ends the execution sends them too.
      for (const action of actions) {
        if (!isOneWayEntityAction(action)) continue;
        recorded.push(actionToEvent(action, now));
        entityActions.push(action);
      }
    }
    const end = endEvent(result.outcome, now);
    if (end) recorded.push(end);
    // An episode that changed nothing records nothing, not even its marker.
    if (recorded.length > 0 || result.customStatusChanged) result.newEvents = [marker, ...recorded];
    return result;
  }

  // Used by ContextApi ------------------------------------------------------------------

  /** Creates the task of a durable call; the executor tracks it until it settles. */
  newTask<T>(task: DurableTask<T>): DurableTask<T> {
    const open = task as DurableTask<unknown>;
    this.openTasks.add(open);
    task.onSettled = () => this.openTasks.delete(open);
    return task;
  }

  /** Stops tracking a task that will never settle (a cancelled wait). */
  forgetTask(task: DurableTask<unknown>): void {
    this.openTasks.delete(task);
  }

  /** Registers a timer at a new step. */
  addTimer(fireAt: number, description: string, onFire?: () => void): TimerTask {
    const step = this.nextStep++;
    const task = this.newTask(new TimerTask(description)) as TimerTask;
    const call: Call = { kind: "timer", task, fireAt };
    if (onFire) call.onFire = onFire;
    this.calls.set(step, call);
    this.pending.set(step, { kind: "createTimer", step, fireAt });
    task.cancelHook = () => {
      this.calls.delete(step);
      this.forgetTask(task as DurableTask<unknown>);
      // Not yet recorded: simply never record it. Recorded: its TimerFired must be dropped.
      if (!this.pending.delete(step)) this.cancelledTimers.push(step);
    };
    return task;
  }

  /** Delivers an event to its oldest waiter, or keeps it for a later waitForEvent. */
  private deliverEvent(name: string, input: unknown): void {
    const index = this.eventWaiters.findIndex((w) => w.name === name);
    if (index < 0) {
      this.bufferedEvents.push({ name, input });
      return;
    }
    const [waiter] = this.eventWaiters.splice(index, 1);
    waiter?.timeout?.cancel();
    waiter?.task.resolve(input);
  }

  // Replay and episodes -------------------------------------------------------------------

  private outcome(): EpisodeOutcome {
    if (this.settled && !this.settled.ok) return { status: "Failed", failure: toFailureDetails(this.settled.error) };
    if (this.continued) {
      const carryOverEvents = this.continued.preserveUnprocessedEvents
        ? this.bufferedEvents.map((e) => ({ type: "EventRaised" as const, timestamp: this.currentTime, ...e }))
        : [];
      const { input, preserveUnprocessedEvents } = this.continued;
      return { status: "ContinuedAsNew", input, carryOverEvents, preserveUnprocessedEvents };
    }
    if (!this.settled) return { status: "Running" };
    try {
      assertSerializable(this.settled.value, "output", { instanceId: this.instanceId });
    } catch (error) {
      return { status: "Failed", failure: toFailureDetails(error) };
    }
    return { status: "Completed", output: this.settled.value };
  }

  private isWaitingOnDurableWork(): boolean {
    for (const task of this.openTasks) if (task.awaited) return true;
    return false;
  }

  /** Applies one event; returns false when it is an incoming event that no longer applies. */
  private async apply(event: HistoryEvent): Promise<boolean> {
    switch (event.type) {
      case "OrchestratorStarted":
        this.currentTime = event.timestamp;
        return true;
      case "ExecutionStarted":
        if (this.started) return false;
        this.started = true;
        this.parent = event.parent;
        this.deterministic = new DeterministicSource(`${this.instanceId}:${event.executionId}`);
        this.startFunction(event.input);
        await drainMicrotasks();
        return true;
      case "TaskScheduled":
      case "TimerCreated":
      case "SubOrchestrationInstanceCreated":
        this.confirm(event);
        return true;
      case "TaskCompleted":
      case "SubOrchestrationInstanceCompleted": {
        const call = this.awaitingResult(event);
        if (!call) return false;
        call.task.resolve(event.result);
        await drainMicrotasks();
        return true;
      }
      case "TaskFailed":
      case "SubOrchestrationInstanceFailed": {
        const call = this.awaitingResult(event);
        if (!call) return false;
        this.handleFailure(event.step, call, event.failure);
        await drainMicrotasks();
        return true;
      }
      case "TimerFired":
        return this.fireTimer(event);
      case "EventRaised":
        this.deliverEvent(event.name, event.input);
        await drainMicrotasks();
        return true;
      case "EntityCallScheduled":
      case "EntitySignalSent":
      case "EntityLockRequested":
      case "EntityUnlockSent":
        this.confirm(event);
        return true;
      case "EntityOperationCompleted":
      case "EntityOperationFailed":
      case "EntityLockGranted":
        if (!deliverEntityEvent(this, event)) return this.unexpected(event);
        await drainMicrotasks();
        return true;
      default:
        // Markers (patches, suspension, rewind, the end): nothing to do on replay.
        return true;
    }
  }

  private startFunction(input: unknown): void {
    let promise: Promise<unknown>;
    try {
      promise = Promise.resolve(this.definition.fn(this.context, input));
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (value) => {
        this.settled ??= { ok: true, value };
      },
      (error) => {
        this.settled ??= { ok: false, error };
      },
    );
  }

  private async fireTimer(event: Extract<HistoryEvent, { type: "TimerFired" }>): Promise<boolean> {
    const call = this.calls.get(event.step);
    if (call && call.kind !== "timer" && call.waitingForRetry) {
      call.waitingForRetry = false;
      call.attempt += 1;
      this.pending.set(event.step, retryAction(event.step, call));
      return true;
    }
    if (call?.kind !== "timer" || !call.task.isPending || this.pending.has(event.step)) return this.unexpected(event);
    this.calls.delete(event.step);
    if (call.onFire) call.onFire();
    call.task.resolve(undefined);
    await drainMicrotasks();
    return true;
  }

  private handleFailure(step: number, call: Extract<Call, RetryableCall>, failure: FailureDetails): void {
    const retryable = failure.code === undefined || !NOT_RETRYABLE.has(failure.code);
    const delay = retryable
      ? nextRetryDelay(call.policy, call.attempt, this.currentTime - call.firstScheduledAt, fromFailureDetails(failure))
      : undefined;
    if (delay === undefined) {
      this.calls.delete(step);
      call.task.reject(
        call.kind === "activity"
          ? new ActivityFailedError(call.name, failure, call.attempt, this.instanceId, step)
          : new SubOrchestrationFailedError(call.name, call.instanceId, failure, call.attempt, this.instanceId, step),
      );
      return;
    }
    call.waitingForRetry = true;
    this.pending.set(step, { kind: "createTimer", step, fireAt: this.currentTime + delay, attempt: call.attempt + 1 });
  }

  /** The call a result belongs to, if it is still waiting for exactly that attempt. */
  private awaitingResult(
    event: Extract<HistoryEvent, { step: number; attempt: number }>,
  ): Extract<Call, RetryableCall> | undefined {
    const call = this.calls.get(event.step);
    const kind = event.type.startsWith("Task") ? "activity" : "subOrchestration";
    if (
      call?.kind === kind &&
      call.task.isPending &&
      !call.waitingForRetry &&
      call.attempt === event.attempt &&
      !this.pending.has(event.step)
    ) {
      if (event.type === "TaskCompleted" || event.type === "SubOrchestrationInstanceCompleted")
        this.calls.delete(event.step);
      return call;
    }
    this.unexpected(event);
    return undefined;
  }

  /** Matches a recorded scheduling event with the action the code took at that step. */
  private confirm(event: DurableCallEvent): void {
    const action = this.pending.get(event.step);
    if (!actionMatches(action, event)) {
      throw new NonDeterminismError(
        this.instanceId,
        event.step,
        describeAction(action, event.step),
        describeEvent(event),
      );
    }
    this.pending.delete(event.step);
    const call = this.calls.get(event.step);
    // The recorded due time wins (the code computed it from the recorded clock anyway).
    if (event.type === "TimerCreated" && call?.kind === "timer") call.fireAt = event.fireAt;
  }

  /** During replay, an event the code cannot account for is divergence; live, it is a stale duplicate. */
  private unexpected(event: HistoryEvent): false {
    if (!this.replaying) return false;
    const step = "step" in event ? event.step : 0;
    throw new NonDeterminismError(
      this.instanceId,
      step,
      describeAction(this.pending.get(step), step),
      describeEvent(event),
    );
  }
}
