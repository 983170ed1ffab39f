import type { ActivityDefinition } from "../definitions/activity.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { nextRetryDelay, type ResolvedRetryPolicy, resolveRetryPolicy } from "../definitions/retryPolicy.js";
import { InvalidArgumentError, NonDeterminismError, NonDurableAwaitError } from "../errors/errors.js";
import { ActivityFailedError, type FailureDetails, fromFailureDetails, toFailureDetails } from "../errors/failure.js";
import { describeEvent, type HistoryEvent, type IncomingEvent } from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import type { CallActivityOptions, OrchestrationContext } from "./context.js";
import { DeterministicSource } from "./deterministic.js";
import { DurableTask } from "./durableTask.js";
import { type Logger, replaySafeLogger } from "./logger.js";

/** A durable call the code made and that history has not recorded yet. */
type Action =
  | { kind: "scheduleActivity"; step: number; name: string; input: unknown; attempt: number }
  | { kind: "createTimer"; step: number; fireAt: number; attempt?: number };

/** What the executor knows of one durable call, by its step. */
interface ActivityCall {
  kind: "activity";
  name: string;
  input: unknown;
  policy: ResolvedRetryPolicy;
  firstScheduledAt: number;
  attempt: number;
  waitingForRetry: boolean;
  task: DurableTask<unknown>;
}

/** Failure codes that no retry can cure. */
const NOT_RETRYABLE = new Set(["UNKNOWN_ACTIVITY", "NOT_SERIALIZABLE"]);

export type EpisodeOutcome =
  | { status: "Running" }
  | { status: "Completed"; output: unknown }
  | { status: "Failed"; failure: FailureDetails };

/** Everything one episode produced, to be committed in one transaction. */
export interface EpisodeResult {
  /** Events to append: the episode marker, the accepted incoming events, new calls, the end. */
  newEvents: HistoryEvent[];
  /** Activities to run (one per TaskScheduled in newEvents). */
  activities: Extract<Action, { kind: "scheduleActivity" }>[];
  /** Durable timers to create (one per TimerCreated in newEvents). */
  timers: Extract<Action, { kind: "createTimer" }>[];
  outcome: EpisodeOutcome;
  customStatus: unknown;
  customStatusChanged: boolean;
}

const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs one orchestration instance: rebuilds its state by replaying history, then advances
 * it episode by episode as results arrive. Kept in memory by the worker while it owns the
 * instance, so that a live instance is never replayed.
 */
export class OrchestrationExecutor {
  private readonly calls = new Map<number, ActivityCall>();
  private readonly pending = new Map<number, Action>();
  private nextStep = 1;
  private replaying = true;
  private currentTime = 0;
  private started = false;
  private settled: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  private customStatus: unknown = undefined;
  private customStatusChanged = false;
  private random: DeterministicSource | undefined;
  private readonly context: OrchestrationContext;

  constructor(
    private readonly definition: OrchestrationDefinition<unknown, unknown>,
    readonly instanceId: string,
    logger: Logger,
  ) {
    const self = this;
    this.context = {
      instanceId,
      name: definition.name,
      get isReplaying() {
        return self.replaying;
      },
      log: replaySafeLogger(logger, () => this.replaying, `[${definition.name} ${instanceId}]`),
      now: () => new Date(this.currentTime),
      newGuid: () => this.deterministic().newGuid(),
      random: () => this.deterministic().random(),
      callActivity: <I, O>(activity: ActivityDefinition<I, O>, input?: I, options?: CallActivityOptions) =>
        this.callActivity(
          activity as unknown as ActivityDefinition<unknown, unknown>,
          input,
          options,
        ) as DurableTask<O>,
      setCustomStatus: (status: unknown) => {
        assertSerializable(status, "customStatus", { instanceId });
        this.customStatus = status;
        this.customStatusChanged = true;
      },
    };
  }

  /** True once the orchestration function has returned or thrown. */
  get isFinished(): boolean {
    return this.settled !== undefined;
  }

  /** Rebuilds the in-memory state from recorded history. Throws NonDeterminismError on divergence. */
  async replay(history: readonly HistoryEvent[]): Promise<void> {
    this.replaying = true;
    for (const event of history) await this.apply(event);
    this.customStatusChanged = false;
  }

  /**
   * Feeds new incoming events to the orchestration and collects what it does in response.
   * Incoming events that no longer apply (a duplicate result) are dropped, not recorded.
   */
  async runEpisode(incoming: readonly IncomingEvent[], now: number): Promise<EpisodeResult> {
    this.replaying = false;
    this.customStatusChanged = false;
    const marker: HistoryEvent = { type: "OrchestratorStarted", timestamp: now };
    await this.apply(marker);
    const newEvents: HistoryEvent[] = [marker];
    for (const event of incoming) {
      if (this.settled) break;
      if (await this.apply(event)) newEvents.push(event);
    }
    const actions = [...this.pending.values()];
    this.pending.clear();
    const result: EpisodeResult = {
      newEvents,
      activities: [],
      timers: [],
      outcome: this.outcome(),
      customStatus: this.customStatus,
      customStatusChanged: this.customStatusChanged,
    };
    if (result.outcome.status === "Running") {
      for (const action of actions) {
        if (action.kind === "scheduleActivity") {
          result.activities.push(action);
          newEvents.push({ type: "TaskScheduled", timestamp: now, ...withoutKind(action) });
        } else {
          result.timers.push(action);
          newEvents.push({ type: "TimerCreated", timestamp: now, ...withoutKind(action) });
        }
      }
      if (!this.isWaitingOnDurableWork()) {
        this.settled = { ok: false, error: new NonDurableAwaitError(this.instanceId) };
        result.outcome = this.outcome();
      }
    }
    if (result.outcome.status === "Completed") {
      newEvents.push({ type: "ExecutionCompleted", timestamp: now, output: result.outcome.output });
    } else if (result.outcome.status === "Failed") {
      newEvents.push({ type: "ExecutionFailed", timestamp: now, failure: result.outcome.failure });
    }
    return result;
  }

  private outcome(): EpisodeOutcome {
    if (!this.settled) return { status: "Running" };
    if (!this.settled.ok) return { status: "Failed", failure: toFailureDetails(this.settled.error) };
    try {
      assertSerializable(this.settled.value, "output", { instanceId: this.instanceId });
    } catch (error) {
      return { status: "Failed", failure: toFailureDetails(error) };
    }
    return { status: "Completed", output: this.settled.value };
  }

  private isWaitingOnDurableWork(): boolean {
    for (const call of this.calls.values()) if (call.task.isPending && call.task.awaited) return true;
    return false;
  }

  private deterministic(): DeterministicSource {
    this.random ??= new DeterministicSource(this.instanceId);
    return this.random;
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
        this.random = new DeterministicSource(`${this.instanceId}:${event.executionId}`);
        this.startFunction(event.input);
        await drainMicrotasks();
        return true;
      case "TaskScheduled":
      case "TimerCreated":
        this.confirm(event);
        return true;
      case "TaskCompleted": {
        const call = this.awaitingResult(event);
        if (!call) return false;
        call.task.resolve(event.result);
        await drainMicrotasks();
        return true;
      }
      case "TaskFailed": {
        const call = this.awaitingResult(event);
        if (!call) return false;
        this.handleFailure(event.step, call, event.failure);
        await drainMicrotasks();
        return true;
      }
      case "TimerFired": {
        const call = this.calls.get(event.step);
        if (!call?.waitingForRetry) return this.unexpected(event);
        call.waitingForRetry = false;
        call.attempt += 1;
        this.pending.set(event.step, {
          kind: "scheduleActivity",
          step: event.step,
          name: call.name,
          input: call.input,
          attempt: call.attempt,
        });
        return true;
      }
      case "ExecutionCompleted":
      case "ExecutionFailed":
      case "ExecutionTerminated":
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

  private callActivity(activity: ActivityDefinition<unknown, unknown>, input: unknown, options?: CallActivityOptions) {
    if (activity?.kind !== "activity") {
      throw new InvalidArgumentError("ctx.callActivity needs an activity definition created with activity().", {
        instanceId: this.instanceId,
      });
    }
    const step = this.nextStep++;
    assertSerializable(input, `input of activity "${activity.name}"`, { instanceId: this.instanceId, step });
    const policy = resolveRetryPolicy(options?.retry ?? activity.options.retry);
    const task = new DurableTask<unknown>();
    this.calls.set(step, {
      kind: "activity",
      name: activity.name,
      input,
      policy,
      firstScheduledAt: this.currentTime,
      attempt: 1,
      waitingForRetry: false,
      task,
    });
    this.pending.set(step, { kind: "scheduleActivity", step, name: activity.name, input, attempt: 1 });
    return task;
  }

  private handleFailure(step: number, call: ActivityCall, failure: FailureDetails): void {
    const error = fromFailureDetails(failure);
    const delay =
      failure.code !== undefined && NOT_RETRYABLE.has(failure.code)
        ? undefined
        : nextRetryDelay(call.policy, call.attempt, this.currentTime - call.firstScheduledAt, error);
    if (delay === undefined) {
      call.task.reject(new ActivityFailedError(call.name, failure, call.attempt, this.instanceId, step));
      return;
    }
    call.waitingForRetry = true;
    this.pending.set(step, { kind: "createTimer", step, fireAt: this.currentTime + delay, attempt: call.attempt + 1 });
  }

  /** The call an activity result belongs to, if it is still waiting for exactly that attempt. */
  private awaitingResult(event: Extract<HistoryEvent, { step: number; attempt: number }>): ActivityCall | undefined {
    const call = this.calls.get(event.step);
    if (
      call?.task.isPending &&
      !call.waitingForRetry &&
      call.attempt === event.attempt &&
      !this.pending.has(event.step)
    ) {
      return call;
    }
    if (this.replaying) this.unexpected(event);
    return undefined;
  }

  /** Matches a recorded TaskScheduled/TimerCreated with the call the code made at that step. */
  private confirm(event: Extract<HistoryEvent, { type: "TaskScheduled" | "TimerCreated" }>): void {
    const action = this.pending.get(event.step);
    const matches =
      action !== undefined &&
      (event.type === "TaskScheduled"
        ? action.kind === "scheduleActivity" && action.name === event.name && action.attempt === event.attempt
        : action.kind === "createTimer" && action.attempt === event.attempt);
    if (!matches) {
      throw new NonDeterminismError(
        this.instanceId,
        event.step,
        describeAction(action, event.step),
        describeEvent(event),
      );
    }
    this.pending.delete(event.step);
    if (event.type === "TimerCreated" && action.kind === "createTimer") {
      // The recorded due time wins: the code's clock during replay is the recorded one anyway.
      action.fireAt = event.fireAt;
    }
  }

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

function withoutKind<T extends { kind: string }>(action: T): Omit<T, "kind"> {
  const { kind: _kind, ...rest } = action;
  return rest;
}

function describeAction(action: Action | undefined, step: number): string {
  if (!action) return `made no durable call at step ${step}`;
  return action.kind === "scheduleActivity"
    ? `called activity "${action.name}" at step ${step}`
    : `created a timer at step ${step}`;
}
