import type { IncomingEvent } from "../history/events.js";
import type { NewInstance } from "./store.js";

/**
 * Durable entities as a store keeps them. Glossary:
 * - entity: a small stateful object addressed by (name, key); one row in `entities`.
 * - message: what waits for an entity, oldest first: an operation (a signal, or a two-way
 *   call whose result goes back to the calling orchestration), a lock request, an unlock.
 * - batch: the due messages of one entity that a worker applies in one go and commits in
 *   one transaction, fenced by the entity's lease token like an orchestration episode.
 * - lock: an orchestration's critical section holds entities; while an entity is locked,
 *   only its owner's messages are applied, every other sender's wait.
 * - operation log: the last ENTITY_OPERATION_LOG_SIZE messages applied to an entity, written
 *   by the batch commit that applied them, for people looking at the entity.
 */

/** The id of an entity. */
export interface EntityId {
  name: string;
  key: string;
}

/** `operation`: run an operation; `lock`: a critical section asks for the entity; `unlock`: it lets go. */
export type EntityMessageKind = "operation" | "lock" | "unlock";

/** The orchestration execution that sent a message; it owns the lock a `lock` message asks for. */
export interface EntitySender {
  instanceId: string;
  executionId: string;
}

/** A message to send to an entity. */
export interface NewEntityMessage {
  name: string;
  key: string;
  kind: EntityMessageKind;
  /** The operation's name (kind `operation`). */
  operation?: string;
  input?: unknown;
  /** Set when an orchestration sent it; absent for clients and entities. */
  sender?: EntitySender;
  /** Set when an entity's operation sent it (`ctx.signalEntity`). */
  senderEntity?: EntityId;
  /** A two-way call or a lock request: the step of the sender's durable call, answered in its inbox. */
  replyStep?: number;
  /** A lock request: every entity of the critical section, sorted; each grants and forwards to the next. */
  lockSet?: EntityId[];
  /** Not delivered before this time (a scheduled signal). */
  visibleAt: number;
}

/** A message waiting for an entity, as read by the worker that applies it. */
export interface EntityMessage extends Omit<NewEntityMessage, "name" | "key"> {
  /** Increasing: messages are applied in id order, which is each sender's sending order. */
  id: number;
  /** A lock request: whether its sender still runs that execution (a dead one is never granted). */
  senderActive: boolean;
}

/** An entity with due messages that the asking worker may process. */
export interface ReadyEntity extends EntityId {
  /** The token seen: a claim takes the lease only if it is still this one. */
  leaseToken: number;
  /** Set when the asking worker holds the entity's lease already: until when. */
  leasedUntil?: number;
}

/** What a worker reads to apply one batch to an entity. */
export interface EntitySnapshot extends EntityId {
  leaseToken: number;
  /** False for an entity never written, or whose state was deleted: operations see its initial state. */
  exists: boolean;
  state: unknown;
  lastModified?: number;
  /**
   * The lock, if the entity is locked by an orchestration execution that is still active. A
   * lock held by one that has ended is not reported: the batch releases it.
   */
  lock?: EntitySender;
  /** True if the stored lock belongs to an execution that has ended (the batch's commit releases it). */
  orphanedLock: boolean;
  /** Due messages, oldest first; while locked, only the lock owner's. */
  messages: EntityMessage[];
}

/** An inbox message for an orchestration: the outcome of its call, or its lock being granted. */
export interface EntityReply {
  instanceId: string;
  executionId: string;
  event: Extract<IncomingEvent, { type: "EntityOperationCompleted" | "EntityOperationFailed" | "EntityLockGranted" }>;
}

/**
 * Everything one batch produced, written in one transaction or not at all, and only while
 * the worker holds the entity's lease at `leaseToken` (the commit advances the token and
 * extends the lease).
 */
export interface EntityCommit extends EntityId {
  workerId: string;
  leaseToken: number;
  consumedMessageIds: number[];
  /** The new state; absent when no operation changed it. */
  state?: { exists: boolean; value: unknown };
  /** The lock after the batch (null: unlocked). */
  lock: EntitySender | null;
  /** Results and lock grants for orchestrations; dropped for one that no longer runs that execution. */
  replies: EntityReply[];
  /** Signals the operations sent, and lock requests forwarded to the next entity of a critical section. */
  messages: NewEntityMessage[];
  /** Orchestrations the operations started; an id that exists already is left alone. */
  newInstances: NewInstance[];
  /**
   * What the batch applied, in order, for the entity's operation log: the store appends
   * them (the last ENTITY_OPERATION_LOG_SIZE of them) and prunes the entity's log, keeping
   * at least its newest ENTITY_OPERATION_LOG_SIZE entries and a bounded number of rows.
   */
  operations?: EntityOperationRecord[];
  now: number;
  leaseExpiresAt: number;
}

/** How many applied messages an entity's log reports, newest first: a bounded log, pruned by each commit. */
export const ENTITY_OPERATION_LOG_SIZE = 20;

/** Who sent a message to an entity: an orchestration, another entity's operation, or a client (HTTP and CLI included). */
export type EntityOperationSender =
  | { kind: "orchestration"; instanceId: string }
  | { kind: "entity"; name: string; key: string }
  | { kind: "client" };

/**
 * `signal`: a one-way operation; `call`: a two-way one (an orchestration waits for its
 * result); `lock` / `unlock`: an orchestration's critical section took / let go of the entity.
 */
export type EntityOperationKind = "signal" | "call" | "lock" | "unlock";

/** One message an entity's batch applied, as its operation log keeps it. */
export interface EntityOperationRecord {
  kind: EntityOperationKind;
  /** The operation's name (absent for `lock` and `unlock`). */
  operation?: string;
  sender: EntityOperationSender;
  /** When the batch that applied it ran (epoch ms). */
  appliedAt: number;
  /** False if the operation threw (or left a state or result that cannot be stored): the state is as before it. */
  ok: boolean;
  /** A failed operation's error: its class name and message (the message cut short). */
  error?: { name: string; message: string };
  /** The operation's input as JSON, cut short; absent when it had none. */
  inputPreview?: string;
}

/** An entity's recent operations and what waits for it. */
export interface EntityOperationLog {
  /** Newest first. */
  operations: EntityOperationRecord[];
  /** Operations waiting for the entity (scheduled signals not yet due included). */
  pending: number;
}

export type EntityCommitResult =
  | { ok: true; leaseToken: number }
  | { ok: false; reason: "lease-lost" }
  | { ok: false; reason: "error"; error: unknown };

/** An entity as stored, for clients. */
export interface EntityRecord extends EntityId {
  exists: boolean;
  state: unknown;
  lastModified?: number;
  /** The orchestration instance holding the entity's lock. */
  lockedBy?: string;
}

export interface EntityQuery {
  name?: string;
  keyPrefix?: string;
  /** Include entities that have no state (never written, or deleted) but a row. Default false. */
  includeEmpty?: boolean;
  /** Page size (1–1000). */
  limit: number;
  /** Keyset cursor: the id of the last entity of the previous page. */
  after?: EntityId;
}

export interface EntityPage {
  entities: EntityRecord[];
  /** Set when more rows may follow. */
  next?: EntityId;
}

export interface EntityCleanup {
  emptyEntitiesRemoved: number;
  orphanedLocksReleased: number;
}

/** The statuses in which an orchestration execution can still receive messages and hold locks. */
export const ACTIVE_STATUSES = ["Pending", "Running", "Suspended", "ContinuedAsNew"] as const;

/**
 * The entity part of the Store interface. Orchestrations send entity messages with their
 * episode commit (`EpisodeCommit.entityMessages`); a commit that ends an execution (or
 * continues it as new), and `terminateInstance`, release the entity locks that execution
 * held and drop its pending lock requests.
 */
export interface EntityStore {
  /** Queues messages for entities (client signals), in one transaction. */
  sendEntityMessages(messages: NewEntityMessage[]): Promise<void>;
  /**
   * Up to `limit` entities named in `names` with due messages they can apply (not only
   * messages waiting for a lock to go), whose lease is free, expired or the worker's own,
   * and not in `busy`.
   */
  findReadyEntities(
    workerId: string,
    now: number,
    limit: number,
    names: string[],
    busy: EntityId[],
  ): Promise<ReadyEntity[]>;
  /**
   * Takes the lease of each entity whose token is still the one seen and whose lease is
   * free, expired or the worker's own; a new token fences out the previous holder. Returns
   * the entities taken, with their new tokens. A worker applies messages only to entities
   * it holds, so operations on one entity never run at the same time on two workers.
   */
  claimEntities(workerId: string, entities: ReadyEntity[], now: number, leaseExpiresAt: number): Promise<ReadyEntity[]>;
  /** The state, lock and first `maxMessages` applicable due messages of each entity. */
  readEntities(entities: EntityId[], now: number, maxMessages: number): Promise<EntitySnapshot[]>;
  /** Commits batches of many entities in one transaction (group commit); a result per batch. */
  commitEntityBatches(commits: EntityCommit[]): Promise<EntityCommitResult[]>;
  getEntity(name: string, key: string): Promise<EntityRecord | undefined>;
  /** The newest `limit` entries of the entity's operation log (at most ENTITY_OPERATION_LOG_SIZE), and its pending count. */
  getEntityOperations(name: string, key: string, limit: number): Promise<EntityOperationLog>;
  /** Entities ordered by name then key, a page at a time. */
  listEntities(query: EntityQuery): Promise<EntityPage>;
  /**
   * Releases locks held by orchestration executions that have ended (or no longer exist),
   * then deletes entities with no state, no lock, no live lease and no waiting message,
   * and the operation logs of entities that no longer have a row.
   */
  cleanEntityStorage(now: number): Promise<EntityCleanup>;
}
