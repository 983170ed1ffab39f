import { checkInstanceId } from "../client/instanceId.js";
import type { ActivityDefinition } from "../definitions/activity.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { resolveRetryPolicy } from "../definitions/retryPolicy.js";
import type { SignalEntityOptions } from "../entities/context.js";
import type {
  AnyEntity,
  OperationArgsWith,
  OperationInputArgs,
  OperationName,
  OperationResult,
} from "../entities/definition.js";
import {
  callEntity,
  type EntityLock,
  type EntityLockTarget,
  lockEntities,
  signalEntity,
} from "../entities/orchestrationEntities.js";
import { EventTimeoutError, InvalidArgumentError, UnknownOrchestrationError } from "../errors/errors.js";
import { assertSerializable } from "../history/serialization.js";
import { type Duration, toMilliseconds } from "../time/duration.js";
import type {
  CallActivityOptions,
  CallSubOrchestrationOptions,
  ContinueAsNewOptions,
  OrchestrationContext,
  TaskValues,
  WaitForEventOptions,
} from "./context.js";
import { CancellableTask, DurableTask, type TimerTask } from "./durableTask.js";
import type { OrchestrationExecutor } from "./executor.js";
import { type Logger, replaySafeLogger } from "./logger.js";

/** The `ctx` an orchestration receives: each durable call becomes an action of the executor. */
export class ContextApi implements OrchestrationContext {
  readonly log: Logger;

  constructor(
    private readonly executor: OrchestrationExecutor,
    readonly name: string,
    logger: Logger,
  ) {
    this.log = replaySafeLogger(logger, () => executor.replaying, `[${name} ${executor.instanceId}]`);
  }

  get instanceId(): string {
    return this.executor.instanceId;
  }

  get parentInstanceId(): string | undefined {
    return this.executor.parent?.instanceId;
  }

  get isReplaying(): boolean {
    return this.executor.replaying;
  }

  now(): Date {
    return new Date(this.executor.currentTime);
  }

  newGuid(): string {
    return this.executor.deterministic.newGuid();
  }

  random(): number {
    return this.executor.deterministic.random();
  }

  callActivity<I, O>(activity: ActivityDefinition<I, O>, input?: I, options?: CallActivityOptions): DurableTask<O> {
    if (activity?.kind !== "activity") {
      throw this.invalid("ctx.callActivity needs an activity definition created with activity().");
    }
    const ex = this.executor;
    const step = ex.nextStep;
    assertSerializable(input, `input of activity "${activity.name}"`, { instanceId: ex.instanceId, step });
    const policy = resolveRetryPolicy(options?.retry ?? activity.options.retry);
    ex.nextStep++;
    const task = ex.newTask(new DurableTask<unknown>(`activity "${activity.name}" (step ${step})`));
    const { name, queue } = activity;
    ex.calls.set(step, {
      kind: "activity",
      name,
      queue,
      input,
      policy,
      firstScheduledAt: ex.currentTime,
      attempt: 1,
      waitingForRetry: false,
      task,
    });
    ex.pending.set(step, { kind: "scheduleActivity", step, name, input, attempt: 1, queue });
    return task as DurableTask<O>;
  }

  callSubOrchestration<I, O>(
    orchestration: OrchestrationDefinition<I, O>,
    input?: I,
    options?: CallSubOrchestrationOptions,
  ): DurableTask<O> {
    if (orchestration?.kind !== "orchestration") {
      throw this.invalid("ctx.callSubOrchestration needs an orchestration definition created with orchestration().");
    }
    const ex = this.executor;
    const step = ex.nextStep;
    const where = { instanceId: ex.instanceId, step };
    if (ex.options.isKnownOrchestration && !ex.options.isKnownOrchestration(orchestration.name, orchestration.queue)) {
      throw new UnknownOrchestrationError(orchestration.name, where);
    }
    assertSerializable(input, `input of sub-orchestration "${orchestration.name}"`, where);
    const instanceId = checkInstanceId(options?.instanceId ?? `${ex.instanceId}:${step}`);
    const policy = resolveRetryPolicy(options?.retry);
    ex.nextStep++;
    const { name, queue } = orchestration;
    const task = ex.newTask(new DurableTask<unknown>(`sub-orchestration "${name}" (step ${step})`));
    ex.calls.set(step, {
      kind: "subOrchestration",
      instanceId,
      name,
      queue,
      input,
      policy,
      firstScheduledAt: ex.currentTime,
      attempt: 1,
      waitingForRetry: false,
      task,
    });
    ex.pending.set(step, { kind: "createSubOrchestration", step, name, instanceId, input, attempt: 1, queue });
    return task as DurableTask<O>;
  }

  sleep(duration: Duration): TimerTask {
    const ms = toMilliseconds(duration, "ctx.sleep duration");
    return this.executor.addTimer(this.executor.currentTime + ms, `a timer of ${ms} ms`);
  }

  sleepUntil(fireAt: Date | number): TimerTask {
    const at = fireAt instanceof Date ? fireAt.getTime() : fireAt;
    if (typeof at !== "number" || !Number.isFinite(at)) {
      throw this.invalid(`ctx.sleepUntil needs a valid Date or epoch milliseconds, got ${String(fireAt)}.`);
    }
    return this.executor.addTimer(at, `a timer until ${new Date(at).toISOString()}`);
  }

  waitForEvent<T>(name: string, options: WaitForEventOptions = {}): CancellableTask<T> {
    if (typeof name !== "string" || name.trim() === "") {
      throw this.invalid(`ctx.waitForEvent needs a non-empty event name, got ${JSON.stringify(name)}.`);
    }
    const ex = this.executor;
    const timeoutMs =
      options.timeout === undefined ? undefined : toMilliseconds(options.timeout, "waitForEvent timeout");
    const task = ex.newTask(new CancellableTask<unknown>(`event "${name}"`)) as CancellableTask<unknown>;
    const buffered = ex.bufferedEvents.findIndex((e) => e.name === name);
    if (buffered >= 0) {
      const [event] = ex.bufferedEvents.splice(buffered, 1);
      task.resolve(event?.input);
      return task as CancellableTask<T>;
    }
    const waiter: (typeof ex.eventWaiters)[number] = { name, task };
    const stopWaiting = (): void => {
      const index = ex.eventWaiters.indexOf(waiter);
      if (index >= 0) ex.eventWaiters.splice(index, 1);
    };
    if (timeoutMs !== undefined) {
      waiter.timeout = ex.addTimer(ex.currentTime + timeoutMs, `the timeout of event "${name}"`, () => {
        stopWaiting();
        task.reject(new EventTimeoutError(name, timeoutMs, { instanceId: ex.instanceId }));
      });
    }
    task.cancelHook = () => {
      stopWaiting();
      waiter.timeout?.cancel();
      ex.forgetTask(task);
    };
    ex.eventWaiters.push(waiter);
    return task as CancellableTask<T>;
  }

  all<T extends readonly PromiseLike<unknown>[]>(tasks: readonly [...T]): Promise<TaskValues<T>> {
    return Promise.all(this.subscribeAll(tasks, "ctx.all")) as Promise<TaskValues<T>>;
  }

  race<T>(tasks: readonly PromiseLike<T>[]): Promise<T> {
    return Promise.race(this.subscribeAll(tasks, "ctx.race")).finally(() => cancelLosers(tasks));
  }

  any<T>(tasks: readonly PromiseLike<T>[]): Promise<T> {
    return Promise.any(this.subscribeAll(tasks, "ctx.any")).finally(() => cancelLosers(tasks));
  }

  setCustomStatus(status: unknown): void {
    assertSerializable(status, "customStatus", { instanceId: this.executor.instanceId });
    this.executor.customStatus = status;
    this.executor.customStatusChanged = true;
  }

  patched(patchId: string): boolean {
    if (typeof patchId !== "string" || patchId.trim() === "") {
      throw this.invalid(`ctx.patched needs a non-empty patch id, got ${JSON.stringify(patchId)}.`);
    }
    const ex = this.executor;
    const decided = ex.patchDecisions.get(patchId);
    if (decided !== undefined) return decided;
    // Replaying history that older code made, without this patch: keep the old path.
    const patched = ex.recordedPatches.has(patchId) || !ex.replaying;
    if (patched && !ex.recordedPatches.has(patchId)) ex.newPatches.push(patchId);
    ex.patchDecisions.set(patchId, patched);
    return patched;
  }

  continueAsNew(input: unknown, options: ContinueAsNewOptions = {}): void {
    assertSerializable(input, "continueAsNew input", { instanceId: this.executor.instanceId });
    this.executor.continued = { input, preserveUnprocessedEvents: options.preserveUnprocessedEvents === true };
  }

  callEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...input: OperationInputArgs<E, K>
  ): DurableTask<OperationResult<E, K>> {
    return callEntity(this.executor, entity, key, operation, input[0]) as DurableTask<OperationResult<E, K>>;
  }

  signalEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...args: OperationArgsWith<E, K, SignalEntityOptions>
  ): void {
    signalEntity(this.executor, entity, key, operation, args[0], args[1]);
  }

  lockEntities(...entities: EntityLockTarget[]): DurableTask<EntityLock> {
    return lockEntities(this.executor, entities);
  }

  private subscribeAll<T>(tasks: readonly PromiseLike<T>[], what: string): PromiseLike<T>[] {
    if (!Array.isArray(tasks)) throw this.invalid(`${what} needs an array of durable tasks.`);
    return tasks.map((t) => (t instanceof DurableTask ? (t as DurableTask<T>).subscribe() : t));
  }

  private invalid(message: string): InvalidArgumentError {
    return new InvalidArgumentError(message, { instanceId: this.executor.instanceId });
  }
}

/** The losers of a race stop waiting: their timers never fire, their event waits take no event. */
function cancelLosers(tasks: readonly PromiseLike<unknown>[]): void {
  for (const task of tasks) if (task instanceof CancellableTask) task.cancel();
}
