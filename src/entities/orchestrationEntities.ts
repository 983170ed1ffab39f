import { InvalidArgumentError } from "../errors/errors.js";
import type { HistoryEvent } from "../history/events.js";
import { assertSerializable } from "../history/serialization.js";
import { DurableTask } from "../orchestration/durableTask.js";
import type { OrchestrationExecutor } from "../orchestration/executor.js";
import { toEpochMs } from "../time/epoch.js";
import type { SignalEntityOptions } from "./context.js";
import { type AnyEntity, checkEntityKey, isEntityDefinition, operationNames } from "./definition.js";
import {
  EntityNotLockedError,
  EntityOperationFailedError,
  NestedCriticalSectionError,
  UnknownEntityError,
  UnknownEntityOperationError,
} from "./errors.js";
import type { EntityRef } from "./events.js";

/** An entity to lock: its definition and key. */
export type EntityLockTarget = readonly [entity: AnyEntity, key: string];

/**
 * A critical section's hold on its entities. While held, no other orchestration's
 * operations run on them. Release it when done; it is also released when the orchestration
 * completes, fails, continues as new or is terminated.
 */
export interface EntityLock {
  /** The locked entities, in the order they were locked (sorted by name, then key). */
  readonly entities: readonly EntityRef[];
  /** True until `release()`. */
  readonly isHeld: boolean;
  /** Lets go of every entity of the section; calling it again does nothing. */
  release(): void;
  /** `await using lock = await ctx.lockEntities(…)` releases the lock where the block ends. */
  [Symbol.asyncDispose](): Promise<void>;
}

type EntityCallRecord =
  | { kind: "operation"; task: DurableTask<unknown>; name: string; key: string; operation: string }
  | { kind: "lock"; task: DurableTask<EntityLock>; lock: SectionLock };

/**
 * The entity side of one orchestration executor: its open entity calls by step, and its
 * critical section. Both are rebuilt by replay, since the code makes the same calls again.
 */
export class OrchestrationEntities {
  readonly calls = new Map<number, EntityCallRecord>();
  /** The current critical section, from `lockEntities` until `release()`. */
  section: SectionLock | undefined;
}

class SectionLock implements EntityLock {
  isHeld = false;
  private released = false;

  constructor(
    private readonly executor: OrchestrationExecutor,
    readonly entities: readonly EntityRef[],
  ) {}

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }

  holds(name: string, key: string): boolean {
    return this.entities.some((e) => e.name === name && e.key === key);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.isHeld = false;
    const ex = this.executor;
    if (ex.entities.section === this) ex.entities.section = undefined;
    const step = ex.nextStep++;
    ex.pending.set(step, { kind: "unlockEntities", step, entities: [...this.entities] });
  }
}

/** `ctx.callEntity`: sends the operation and resolves with its result (or EntityOperationFailedError). */
export function callEntity(
  ex: OrchestrationExecutor,
  entity: AnyEntity,
  key: string,
  operation: string,
  input: unknown,
): DurableTask<unknown> {
  const step = ex.nextStep;
  const where = { instanceId: ex.instanceId, step };
  checkTarget(ex, entity, key, operation, "ctx.callEntity", where);
  const section = ex.entities.section;
  if (section && !section.holds(entity.name, key)) {
    throw new EntityNotLockedError(entity.name, key, section.entities, where);
  }
  assertSerializable(input, `input of operation "${operation}" of entity "${entity.name}"`, where);
  ex.nextStep++;
  const task = ex.newTask(
    new DurableTask<unknown>(`operation "${operation}" of entity ${entity.name}@${key} (step ${step})`),
  );
  ex.entities.calls.set(step, { kind: "operation", task, name: entity.name, key, operation });
  ex.pending.set(step, { kind: "callEntity", step, name: entity.name, key, operation, input });
  return task;
}

/** `ctx.signalEntity`: sends the operation one-way; recorded, so replay does not send it again. */
export function signalEntity(
  ex: OrchestrationExecutor,
  entity: AnyEntity,
  key: string,
  operation: string,
  input: unknown,
  options: SignalEntityOptions | undefined,
): void {
  const step = ex.nextStep;
  const where = { instanceId: ex.instanceId, step };
  checkTarget(ex, entity, key, operation, "ctx.signalEntity", where);
  assertSerializable(input, `input of operation "${operation}" of entity "${entity.name}"`, where);
  const at = options?.at === undefined ? undefined : toEpochMs(options.at, "signalEntity at");
  ex.nextStep++;
  const action = { kind: "signalEntity" as const, step, name: entity.name, key, operation, input };
  ex.pending.set(step, at === undefined ? action : { ...action, at });
}

/**
 * `ctx.lockEntities`: asks for every entity, one at a time in sorted order (so that two
 * sections wanting the same entities queue at the first one instead of deadlocking), and
 * resolves once all are held.
 */
export function lockEntities(ex: OrchestrationExecutor, targets: readonly EntityLockTarget[]): DurableTask<EntityLock> {
  const step = ex.nextStep;
  const where = { instanceId: ex.instanceId, step };
  if (ex.entities.section) throw new NestedCriticalSectionError(where);
  if (targets.length === 0) {
    throw new InvalidArgumentError("ctx.lockEntities needs at least one [entity, key] pair.", where);
  }
  const byId = new Map<string, EntityRef>();
  for (const target of targets) {
    if (!Array.isArray(target) || target.length !== 2) {
      throw new InvalidArgumentError('ctx.lockEntities takes [entity, key] pairs, such as [account, "alice"].', where);
    }
    const [entity, key] = target;
    if (!isEntityDefinition(entity)) {
      throw new InvalidArgumentError("ctx.lockEntities needs entity definitions created with entity().", where);
    }
    checkEntityKey(key, "ctx.lockEntities");
    if (ex.options.isKnownEntity && !ex.options.isKnownEntity(entity.name))
      throw new UnknownEntityError(entity.name, where);
    byId.set(JSON.stringify([entity.name, key]), { name: entity.name, key });
  }
  const entities = [...byId.values()].sort(compareEntities);
  ex.nextStep++;
  const lock = new SectionLock(ex, entities);
  ex.entities.section = lock;
  const task = ex.newTask(new DurableTask<EntityLock>(`the lock on ${entities.length} entities (step ${step})`));
  ex.entities.calls.set(step, { kind: "lock", task, lock });
  ex.pending.set(step, { kind: "lockEntities", step, entities });
  return task;
}

/**
 * Delivers an entity call's outcome or a lock grant to the waiting call. False when no
 * recorded call waits for it (a stale duplicate live; a divergence in replay).
 */
export function deliverEntityEvent(
  ex: OrchestrationExecutor,
  event: Extract<HistoryEvent, { type: "EntityOperationCompleted" | "EntityOperationFailed" | "EntityLockGranted" }>,
): boolean {
  const call = ex.entities.calls.get(event.step);
  if (!call?.task.isPending || ex.pending.has(event.step)) return false;
  if ((call.kind === "lock") !== (event.type === "EntityLockGranted")) return false;
  ex.entities.calls.delete(event.step);
  if (call.kind === "lock") {
    call.lock.isHeld = ex.entities.section === call.lock;
    call.task.resolve(call.lock);
  } else if (event.type === "EntityOperationCompleted") {
    call.task.resolve(event.result);
  } else if (event.type === "EntityOperationFailed") {
    call.task.reject(
      new EntityOperationFailedError(call.name, call.key, call.operation, event.failure, {
        instanceId: ex.instanceId,
        step: event.step,
      }),
    );
  }
  return true;
}

function checkTarget(
  ex: OrchestrationExecutor,
  entity: AnyEntity,
  key: string,
  operation: string,
  what: string,
  where: { instanceId: string; step: number },
): void {
  if (!isEntityDefinition(entity))
    throw new InvalidArgumentError(`${what} needs an entity definition created with entity().`, where);
  checkEntityKey(key, what);
  if (ex.options.isKnownEntity && !ex.options.isKnownEntity(entity.name))
    throw new UnknownEntityError(entity.name, where);
  if (typeof operation !== "string" || !Object.hasOwn(entity.operations, operation)) {
    throw new UnknownEntityOperationError(entity.name, String(operation), operationNames(entity), where);
  }
}

function compareEntities(a: EntityRef, b: EntityRef): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return 0;
}
