import { randomUUID } from "node:crypto";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import type { SignalEntityOptions } from "../entities/context.js";
import type { AnyEntity, OperationArgsWith, OperationName } from "../entities/definition.js";
import {
  EntityClient,
  type EntityOperationsResult,
  type EntityPageResult,
  type EntityStatus,
  type GetEntityOperationsOptions,
  type ListEntitiesOptions,
} from "../entities/entityClient.js";
import {
  InstanceNotActiveError,
  InstanceNotFoundError,
  InvalidArgumentError,
  InvalidInstanceStateError,
  type PerdureError,
  TimeoutError,
} from "../errors/errors.js";
import type { HistoryEvent } from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import type { EntityCleanup } from "../store/entityStore.js";
import { GroupCommit } from "../store/groupCommit.js";
import { type InstanceRecord, isTerminal, type NewInstance, type RuntimeStatus, type Store } from "../store/store.js";
import { type Duration, toMilliseconds } from "../time/duration.js";
import { toEpochMs } from "../time/epoch.js";
import { startOnLocalWorker } from "../worker/localWorkers.js";
import { CompletionWaiters } from "./completionWaiters.js";
import { checkInstanceId } from "./instanceId.js";
import { type InstanceStatus, toStatus } from "./instanceStatus.js";
import { encodeContinuationToken, type ListOptions, toInstanceQuery } from "./listQuery.js";

export interface ClientOptions {
  store: Store;
  /** Time source; tests pass one they control. Default `Date.now`. */
  clock?: () => number;
  /**
   * How often `waitForCompletion` re-reads the status, for changes made by another process
   * that this one cannot hear of. Default 1 s, or 5 s on a store that notifies across
   * processes. (Changes made through the same store object are noticed at once.)
   */
  pollIntervalMs?: number;
  /**
   * Eager start: when a worker of this process runs on the same store object and can take
   * the instance, `start` hands it over, and the commit of its first episode creates it —
   * one transaction instead of two, and no wait for a poll. Default true.
   */
  eagerStart?: boolean;
}

export interface StartOptions {
  /** The id of the new instance. Default: a random UUID. */
  instanceId?: string;
  /** If an instance with this id exists and has finished, replace it with a new run. Default false. */
  replaceIfFinished?: boolean;
  /** Do not run before this time: the instance stays Pending until then. */
  startAt?: Date;
}

export interface TerminateOptions {
  /** Terminate the instance's running sub-orchestrations too (and theirs). Default false. */
  recursive?: boolean;
}

export interface RestartOptions {
  /** Run under a new id (true: a random one; a string: that one). Default: the same id, which must have finished. */
  newInstanceId?: boolean | string;
}

/** One page of `client.list`. */
export interface InstancePageResult {
  instances: InstanceStatus[];
  /** Pass as `continuationToken` to get the next page; absent on the last page. */
  continuationToken?: string;
}

export interface WaitOptions {
  /** Give up with a TimeoutError after this long. Default: wait forever. */
  timeout?: Duration;
}

/** Starts, queries and manages instances. Create with `createClient({ store })`. */
export interface Client {
  /** Starts a new instance and returns its id once it is durably recorded. */
  start<I, O>(orchestration: OrchestrationDefinition<I, O>, input: I, options?: StartOptions): Promise<string>;
  /** The instance's status, or undefined when no such instance exists. */
  getStatus<I = unknown, O = unknown>(instanceId: string): Promise<InstanceStatus<I, O> | undefined>;
  /** The instance's full history, oldest event first. */
  getHistory(instanceId: string): Promise<HistoryEvent[]>;
  /** Resolves with the final status once the instance is Completed, Failed or Terminated. */
  waitForCompletion<I = unknown, O = unknown>(instanceId: string, options?: WaitOptions): Promise<InstanceStatus<I, O>>;
  /** Stops an active instance at once; its activities in flight are abandoned. */
  terminate(instanceId: string, reason?: string, options?: TerminateOptions): Promise<void>;
  /** Sends an external event; an active instance keeps it until `ctx.waitForEvent` takes it. */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void>;
  /** Pauses an instance: it advances no further (events raised meanwhile are kept) until resumed. */
  suspend(instanceId: string, reason?: string): Promise<void>;
  resume(instanceId: string, reason?: string): Promise<void>;
  /** Re-runs a Failed instance from its failed step, keeping every completed step. */
  rewind(instanceId: string, reason?: string): Promise<void>;
  /** Starts a new run with the same orchestration and input. Returns the new run's instance id. */
  restart(instanceId: string, options?: RestartOptions): Promise<string>;
  /** Deletes a finished instance and its history. */
  purge(instanceId: string): Promise<void>;
  /** Deletes finished instances that match; returns how many. */
  purgeInstances(filter: { createdFrom?: Date; createdTo?: Date; runtimeStatus?: RuntimeStatus[] }): Promise<number>;
  /** Lists instances, oldest first, a page at a time. */
  list(options?: ListOptions): Promise<InstancePageResult>;
  /**
   * Sends an operation to an entity, one-way (with `at`: delivered no earlier than then).
   * Given a definition, the operation name and input are checked; given a name, the signal
   * is stored even if no worker registers that entity yet.
   */
  signalEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...args: OperationArgsWith<E, K, SignalEntityOptions>
  ): Promise<void>;
  signalEntity(
    entity: string,
    key: string,
    operation: string,
    input?: unknown,
    options?: SignalEntityOptions,
  ): Promise<void>;
  /** An entity's state; one never written reports `exists: false` (and its initial state, given the definition). */
  getEntity<E extends AnyEntity>(entity: E, key: string): Promise<EntityStatus<ReturnType<E["initialState"]>>>;
  getEntity(entity: string, key: string): Promise<EntityStatus>;
  /**
   * An entity's recent operations, newest first — what its batches applied, with sender,
   * outcome and input preview; the store keeps the last 20 per entity — and how many wait.
   */
  getEntityOperations(
    entity: AnyEntity | string,
    key: string,
    options?: GetEntityOperationsOptions,
  ): Promise<EntityOperationsResult>;
  /** Lists entities with state, by name then key, a page at a time. */
  listEntities(options?: ListEntitiesOptions): Promise<EntityPageResult>;
  /** Releases locks held by orchestrations that no longer run, then deletes entities with nothing in them. */
  cleanEntityStorage(): Promise<EntityCleanup>;
}

export function createClient(options: ClientOptions): Client {
  return new PerdureClient(options);
}

class PerdureClient implements Client {
  private readonly store: Store;
  private readonly clock: () => number;
  private readonly pollIntervalMs: number;
  private readonly starts: GroupCommit<NewInstance, Error | undefined>;
  private readonly entities: EntityClient;
  private readonly eagerStart: boolean;
  private readonly completions: CompletionWaiters;

  constructor(options: ClientOptions) {
    if (!options?.store)
      throw new InvalidArgumentError('createClient needs a store, such as sqliteStore("perdure.db").');
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.pollIntervalMs = options.pollIntervalMs ?? (this.store.notifiesAcrossProcesses ? 5_000 : 1_000);
    // Starts issued in the same tick share one transaction: group commit for clients too.
    this.starts = new GroupCommit((batch) => this.store.createInstances(batch));
    this.entities = new EntityClient(this.store, this.clock);
    this.eagerStart = options.eagerStart !== false;
    this.completions = new CompletionWaiters(this.store);
  }

  async start<I, O>(
    orchestration: OrchestrationDefinition<I, O>,
    input: I,
    options: StartOptions = {},
  ): Promise<string> {
    if (orchestration?.kind !== "orchestration") {
      throw new InvalidArgumentError("client.start needs an orchestration definition created with orchestration().");
    }
    const instanceId = checkInstanceId(options.instanceId ?? randomUUID());
    assertSerializable(input, "input", { instanceId });
    const request: NewInstance = {
      instanceId,
      name: orchestration.name,
      executionId: randomUUID(),
      input,
      queue: orchestration.queue,
      createdAt: this.clock(),
      replaceIfFinished: options.replaceIfFinished === true,
      ...(options.startAt ? { startAt: toEpochMs(options.startAt, "startAt") } : {}),
    };
    const eager = this.eagerStart ? startOnLocalWorker(this.store, request) : undefined;
    const refusal = await (eager ?? this.starts.submit(request));
    if (refusal) throw refusal;
    return instanceId;
  }

  async getStatus<I, O>(instanceId: string): Promise<InstanceStatus<I, O> | undefined> {
    const record = await this.store.getInstance(checkInstanceId(instanceId));
    return record ? toStatus<I, O>(record) : undefined;
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    await this.mustExist(instanceId);
    return this.store.getHistory(instanceId);
  }

  async waitForCompletion<I, O>(instanceId: string, options: WaitOptions = {}): Promise<InstanceStatus<I, O>> {
    checkInstanceId(instanceId);
    const timeoutMs = options.timeout === undefined ? undefined : toMilliseconds(options.timeout, "timeout");
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    // Changes made through this store object arrive as notifications (a flag, so that one
    // arriving while the status is being read is not lost); the poll is only for changes
    // that this process cannot hear of, and it is slow so that many waiters cost little.
    let finished = false;
    let wake: (() => void) | undefined;
    const unsubscribe = this.completions.watch(instanceId, () => {
      finished = true;
      wake?.();
    });
    try {
      for (;;) {
        // The status alone until it is final, then the whole record once; after the store
        // said it finished, the record at once (on PostgreSQL a status read is a record read).
        const heardFinished = finished;
        finished = false;
        const runtimeStatus = heardFinished ? undefined : await this.store.getRuntimeStatus(instanceId);
        if (heardFinished || (runtimeStatus && isTerminal(runtimeStatus))) {
          const status = await this.getStatus<I, O>(instanceId);
          if (!status) throw new InstanceNotFoundError(instanceId);
          // Else replaced by a new run (replaceIfFinished) in between: wait for that one.
          if (isTerminal(status.runtimeStatus)) return status;
          continue;
        }
        if (!runtimeStatus) throw new InstanceNotFoundError(instanceId);
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new TimeoutError(`Instance "${instanceId}" is still ${runtimeStatus} after ${timeoutMs} ms.`, {
            instanceId,
          });
        }
        if (finished) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, this.pollIntervalMs));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  async terminate(instanceId: string, reason = "Terminated by client", options: TerminateOptions = {}): Promise<void> {
    checkReason(reason);
    const previous = await this.store.terminateInstance(checkInstanceId(instanceId), reason, this.clock());
    if (isTerminal(previous)) throw new InstanceNotActiveError(instanceId, previous, "terminate");
    if (!options.recursive) return;
    for (const child of await this.store.listChildren(instanceId)) {
      await this.terminate(child, reason, options).catch((error) => {
        // A child that finished in the meantime needs no terminating.
        if ((error as PerdureError).code !== "INSTANCE_NOT_ACTIVE") throw error;
      });
    }
  }

  async raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void> {
    if (typeof eventName !== "string" || eventName.trim() === "") {
      throw new InvalidArgumentError(`raiseEvent needs a non-empty event name, got ${JSON.stringify(eventName)}.`);
    }
    assertSerializable(data, `data of event "${eventName}"`, { instanceId });
    await this.store.raiseEvent(checkInstanceId(instanceId), eventName, data, this.clock());
  }

  async suspend(instanceId: string, reason = "Suspended by client"): Promise<void> {
    checkReason(reason);
    await this.store.setSuspended(checkInstanceId(instanceId), true, reason, this.clock());
  }

  async resume(instanceId: string, reason = "Resumed by client"): Promise<void> {
    checkReason(reason);
    await this.store.setSuspended(checkInstanceId(instanceId), false, reason, this.clock());
  }

  async rewind(instanceId: string, reason = "Rewound by client"): Promise<void> {
    checkReason(reason);
    const failedChildren = await this.store.rewindInstance(checkInstanceId(instanceId), reason, this.clock());
    for (const child of failedChildren) await this.rewind(child, reason);
  }

  async restart(instanceId: string, options: RestartOptions = {}): Promise<string> {
    const record = await this.mustExist(instanceId);
    const sameId = options.newInstanceId === undefined || options.newInstanceId === false;
    if (sameId && !isTerminal(record.runtimeStatus)) {
      throw new InvalidInstanceStateError(
        instanceId,
        record.runtimeStatus,
        "restart",
        "a finished instance (or { newInstanceId: true })",
      );
    }
    const newId = checkInstanceId(
      sameId ? instanceId : typeof options.newInstanceId === "string" ? options.newInstanceId : randomUUID(),
    );
    const refusal = await this.starts.submit({
      instanceId: newId,
      name: record.name,
      executionId: randomUUID(),
      input: record.input,
      // The queue it ran on: the client has the name only, not the definition.
      queue: record.queue,
      createdAt: this.clock(),
      replaceIfFinished: sameId,
    });
    if (refusal) throw refusal;
    return newId;
  }

  async purge(instanceId: string): Promise<void> {
    await this.store.purgeInstances({ instanceId: checkInstanceId(instanceId) });
  }

  async purgeInstances(filter: {
    createdFrom?: Date;
    createdTo?: Date;
    runtimeStatus?: RuntimeStatus[];
  }): Promise<number> {
    const query = toInstanceQuery({ ...filter, pageSize: 1 });
    const selector: { createdFrom?: number; createdTo?: number; runtimeStatus?: RuntimeStatus[] } = {};
    if (query.createdFrom !== undefined) selector.createdFrom = query.createdFrom;
    if (query.createdTo !== undefined) selector.createdTo = query.createdTo;
    if (query.runtimeStatus) selector.runtimeStatus = query.runtimeStatus;
    return this.store.purgeInstances(selector);
  }

  async list(options: ListOptions = {}): Promise<InstancePageResult> {
    const page = await this.store.listInstances(toInstanceQuery(options));
    const result: InstancePageResult = { instances: page.instances.map((r) => toStatus(r)) };
    if (page.next) result.continuationToken = encodeContinuationToken(page.next);
    return result;
  }

  signalEntity(
    entity: AnyEntity | string,
    key: string,
    operation: string,
    input?: unknown,
    options?: SignalEntityOptions,
  ): Promise<void> {
    return this.entities.signal(entity, key, operation, input, options);
  }

  getEntity<S>(entity: AnyEntity | string, key: string): Promise<EntityStatus<S>> {
    return this.entities.get(entity, key) as Promise<EntityStatus<S>>;
  }

  getEntityOperations(
    entity: AnyEntity | string,
    key: string,
    options?: GetEntityOperationsOptions,
  ): Promise<EntityOperationsResult> {
    return this.entities.operations(entity, key, options);
  }

  listEntities(options?: ListEntitiesOptions): Promise<EntityPageResult> {
    return this.entities.list(options);
  }

  cleanEntityStorage(): Promise<EntityCleanup> {
    return this.entities.clean();
  }

  private async mustExist(instanceId: string): Promise<InstanceRecord> {
    const record = await this.store.getInstance(checkInstanceId(instanceId));
    if (!record) throw new InstanceNotFoundError(instanceId);
    return record;
  }
}

function checkReason(reason: unknown): void {
  if (typeof reason !== "string") throw new InvalidArgumentError("reason must be a string.");
}
