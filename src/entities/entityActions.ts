import type { HistoryEvent } from "../history/events.js";
import type { EntitySender, NewEntityMessage } from "../store/entityStore.js";
import type { EntityHistoryEvent, EntityRef } from "./events.js";

/** What an orchestration's entity calls become, until history records them. */
export type EntityAction =
  | { kind: "callEntity"; step: number; name: string; key: string; operation: string; input: unknown }
  | { kind: "signalEntity"; step: number; name: string; key: string; operation: string; input: unknown; at?: number }
  | { kind: "lockEntities"; step: number; entities: EntityRef[] }
  | { kind: "unlockEntities"; step: number; entities: EntityRef[] };

const KINDS = new Set(["callEntity", "signalEntity", "lockEntities", "unlockEntities"]);

export function isEntityAction(action: { kind: string }): action is EntityAction {
  return KINDS.has(action.kind);
}

/** One-way actions: sent even by the episode that ends the orchestration. */
export function isOneWayEntityAction(action: { kind: string }): action is EntityAction {
  return action.kind === "signalEntity" || action.kind === "unlockEntities";
}

/** The history event that records an entity action. */
export function entityActionToEvent(action: EntityAction, timestamp: number): EntityHistoryEvent {
  const { step } = action;
  switch (action.kind) {
    case "callEntity": {
      const { name, key, operation, input } = action;
      return { type: "EntityCallScheduled", timestamp, step, name, key, operation, input };
    }
    case "signalEntity": {
      const { name, key, operation, input } = action;
      const event: EntityHistoryEvent = { type: "EntitySignalSent", timestamp, step, name, key, operation, input };
      if (action.at !== undefined) event.at = action.at;
      return event;
    }
    case "lockEntities":
      return { type: "EntityLockRequested", timestamp, step, entities: action.entities };
    case "unlockEntities":
      return { type: "EntityUnlockSent", timestamp, step, entities: action.entities };
  }
}

/** Whether a recorded entity event is the one the code's action would have written. */
export function entityActionMatches(action: { kind: string } | undefined, event: HistoryEvent): boolean {
  if (!action || !isEntityAction(action)) return false;
  switch (event.type) {
    case "EntityCallScheduled":
    case "EntitySignalSent":
      return (
        action.kind === (event.type === "EntityCallScheduled" ? "callEntity" : "signalEntity") &&
        "operation" in action &&
        action.name === event.name &&
        action.key === event.key &&
        action.operation === event.operation
      );
    case "EntityLockRequested":
    case "EntityUnlockSent":
      return (
        action.kind === (event.type === "EntityLockRequested" ? "lockEntities" : "unlockEntities") &&
        "entities" in action &&
        sameEntities(action.entities, event.entities)
      );
    default:
      return false;
  }
}

/** What the code did at a step, for determinism errors. */
export function describeEntityAction(action: EntityAction, step: number): string {
  switch (action.kind) {
    case "callEntity":
      return `called operation "${action.operation}" of entity ${action.name}@${action.key} at step ${step}`;
    case "signalEntity":
      return `signalled operation "${action.operation}" of entity ${action.name}@${action.key} at step ${step}`;
    case "lockEntities":
      return `locked ${list(action.entities)} at step ${step}`;
    case "unlockEntities":
      return `released the lock on ${list(action.entities)} at step ${step}`;
  }
}

/** A description of a recorded entity event, for determinism errors. */
export function describeEntityEvent(event: EntityHistoryEvent): string {
  switch (event.type) {
    case "EntityCallScheduled":
      return `a call of operation "${event.operation}" of entity ${event.name}@${event.key} at step ${event.step}`;
    case "EntitySignalSent":
      return `a signal of operation "${event.operation}" to entity ${event.name}@${event.key} at step ${event.step}`;
    case "EntityLockRequested":
      return `a lock on ${list(event.entities)} at step ${event.step}`;
    case "EntityUnlockSent":
      return `the release of ${list(event.entities)} at step ${event.step}`;
    default:
      return `${event.type} at step ${event.step}`;
  }
}

/** The entity messages an episode's actions send, in the order the code made them. */
export function toEntityMessages(
  actions: readonly EntityAction[],
  sender: EntitySender,
  now: number,
): NewEntityMessage[] {
  const messages: NewEntityMessage[] = [];
  for (const action of actions) {
    switch (action.kind) {
      case "callEntity":
      case "signalEntity": {
        const { name, key, operation, input } = action;
        const at = action.kind === "signalEntity" && action.at !== undefined ? Math.max(action.at, now) : now;
        const message: NewEntityMessage = { name, key, kind: "operation", operation, input, sender, visibleAt: at };
        if (action.kind === "callEntity") message.replyStep = action.step;
        messages.push(message);
        break;
      }
      case "lockEntities": {
        const first = action.entities[0];
        if (!first) break;
        messages.push({
          name: first.name,
          key: first.key,
          kind: "lock",
          sender,
          replyStep: action.step,
          lockSet: action.entities,
          visibleAt: now,
        });
        break;
      }
      case "unlockEntities":
        for (const { name, key } of action.entities)
          messages.push({ name, key, kind: "unlock", sender, visibleAt: now });
        break;
    }
  }
  return messages;
}

function sameEntities(a: readonly EntityRef[], b: readonly EntityRef[]): boolean {
  return a.length === b.length && a.every((e, i) => e.name === b[i]?.name && e.key === b[i]?.key);
}

function list(entities: readonly EntityRef[]): string {
  return entities.map((e) => `${e.name}@${e.key}`).join(", ");
}
