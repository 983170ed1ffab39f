import { toFailureDetails } from "../errors/failure.js";
import { assertSerializable } from "../history/serialization.js";
import type { Logger } from "../orchestration/logger.js";
import type {
  EntityCommit,
  EntityId,
  EntityMessage,
  EntityReply,
  EntitySender,
  EntitySnapshot,
  NewEntityMessage,
} from "../store/entityStore.js";
import type { NewInstance } from "../store/store.js";
import { type AnyEntity, operationNames } from "./definition.js";
import { UnknownEntityOperationError } from "./errors.js";
import { OperationContext } from "./operationContext.js";
import { OperationLogBuilder } from "./operationLog.js";

export interface BatchEnvironment {
  workerId: string;
  now: number;
  leaseExpiresAt: number;
  logger: Logger;
}

/** The operation function as the batch calls it: state, input and context are all checked at run time. */
type RunnableOperation = (state: unknown, input: unknown, ctx: OperationContext<unknown>) => unknown;

/**
 * Applies one batch of an entity's due messages, in order, and returns what to commit.
 *
 * Each operation runs on a fresh copy of the state; if it throws (or leaves a state or a
 * result that cannot be stored), the state stays as it was before it and what it sent is
 * dropped, a two-way caller gets the failure, and the rest of the batch still applies.
 *
 * Locks: while the entity is locked, only the owner's messages apply; every other sender's
 * wait, and stay in the store. A lock request is granted when the entity is unlocked: it
 * then passes on to the next entity of the critical section, or (the last one) tells the
 * orchestration that it holds them all. After an unlock that let waiting messages through,
 * the batch ends, so that the next one takes them in their order.
 *
 * The commit also carries the batch's entries for the entity's operation log (operations
 * with their outcome, locks granted, unlocks that released the lock), written in the same
 * transaction: a batch that is not committed leaves no entry.
 */
export async function runEntityBatch(
  definition: AnyEntity,
  snapshot: EntitySnapshot,
  env: BatchEnvironment,
): Promise<EntityCommit | undefined> {
  const { name, key } = snapshot;
  let exists = snapshot.exists;
  // The state as JSON text: each operation gets its own parsed copy of it.
  let stateText = exists ? encodeState(snapshot.state) : undefined;
  let stateChanged = false;
  let lock: EntitySender | null = snapshot.lock ?? null;
  const consumed: number[] = [];
  const replies: EntityReply[] = [];
  const messages: NewEntityMessage[] = [];
  const newInstances: NewInstance[] = [];
  const log = new OperationLogBuilder(env.now);
  let skipped = false;

  const reply = (message: EntityMessage, event: EntityReply["event"]): void => {
    if (!message.sender || message.replyStep === undefined) return;
    replies.push({ instanceId: message.sender.instanceId, executionId: message.sender.executionId, event });
  };

  for (const message of snapshot.messages) {
    if (lock && message.sender?.instanceId !== lock.instanceId) {
      skipped = true;
      continue;
    }
    consumed.push(message.id);
    if (message.kind === "unlock") {
      if (!lock || message.sender?.instanceId !== lock.instanceId) continue;
      lock = null;
      log.add(message, "unlock");
      if (skipped || snapshot.lock) break;
      continue;
    }
    if (message.kind === "lock") {
      // A request whose orchestration has ended is dropped: granting it would lock the entity for nobody.
      if (!message.sender || message.replyStep === undefined || !message.senderActive) continue;
      lock = { instanceId: message.sender.instanceId, executionId: message.sender.executionId };
      log.add(message, "lock");
      const next = nextInLockSet(message.lockSet ?? [], snapshot);
      if (next) {
        const forward: NewEntityMessage = { ...next, kind: "lock", sender: lock, visibleAt: env.now };
        forward.replyStep = message.replyStep;
        if (message.lockSet) forward.lockSet = message.lockSet;
        messages.push(forward);
      } else {
        reply(message, { type: "EntityLockGranted", timestamp: env.now, step: message.replyStep });
      }
      continue;
    }

    const operation = message.operation ?? "";
    const ctx = new OperationContext<unknown>(name, key, operation, env.now);
    try {
      if (!Object.hasOwn(definition.operations, operation)) {
        throw new UnknownEntityOperationError(name, operation, operationNames(definition));
      }
      const fn = definition.operations[operation] as unknown as RunnableOperation;
      const copy = exists ? decodeState(stateText) : definition.initialState();
      const result = await fn(copy, message.input, ctx);
      const next = ctx.deleted ? undefined : ctx.replaced ? ctx.replaced.value : copy;
      assertSerializable(result, `result of operation "${operation}" of entity ${name}@${key}`);
      const nextText = ctx.deleted ? undefined : encodeState(next, `state of entity ${name}@${key}`);
      if (exists !== !ctx.deleted || nextText !== stateText) stateChanged = true;
      exists = !ctx.deleted;
      stateText = nextText;
      messages.push(...ctx.messages);
      newInstances.push(...ctx.starts);
      if (message.replyStep !== undefined) {
        reply(message, { type: "EntityOperationCompleted", timestamp: env.now, step: message.replyStep, result });
      }
      log.add(message, message.replyStep === undefined ? "signal" : "call");
    } catch (error) {
      log.add(message, message.replyStep === undefined ? "signal" : "call", { error });
      if (message.replyStep !== undefined) {
        const failure = toFailureDetails(error);
        reply(message, { type: "EntityOperationFailed", timestamp: env.now, step: message.replyStep, failure });
      } else {
        env.logger.warn(
          `[perdure] signal "${operation}" to entity ${name}@${key} failed; the entity's state is unchanged`,
          error,
        );
      }
    }
  }

  if (consumed.length === 0 && !snapshot.orphanedLock) return undefined;
  const commit: EntityCommit = {
    name,
    key,
    workerId: env.workerId,
    leaseToken: snapshot.leaseToken,
    consumedMessageIds: consumed,
    lock,
    replies,
    messages,
    newInstances,
    operations: log.records(),
    now: env.now,
    leaseExpiresAt: env.leaseExpiresAt,
  };
  if (stateChanged) commit.state = { exists, value: exists ? decodeState(stateText) : undefined };
  return commit;
}

/** The entity after this one in a critical section's sorted lock set, if any. */
function nextInLockSet(lockSet: readonly EntityId[], self: EntityId): EntityId | undefined {
  const index = lockSet.findIndex((e) => e.name === self.name && e.key === self.key);
  const next = index >= 0 ? lockSet[index + 1] : undefined;
  return next ? { name: next.name, key: next.key } : undefined;
}

/** Checks a state and turns it into JSON text (undefined stays undefined). */
function encodeState(state: unknown, path = "state"): string | undefined {
  assertSerializable(state, path);
  return state === undefined ? undefined : JSON.stringify(state);
}

function decodeState(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}
