import { InvalidArgumentError } from "../errors/errors.js";
import { assertSerializable } from "../history/serialization.js";
import {
  ENTITY_OPERATION_LOG_SIZE,
  type EntityCleanup,
  type EntityId,
  type EntityOperationKind,
  type EntityOperationSender,
  type EntityQuery,
  type EntityRecord,
  type NewEntityMessage,
} from "../store/entityStore.js";
import { GroupCommit } from "../store/groupCommit.js";
import type { Store } from "../store/store.js";
import { toEpochMs } from "../time/epoch.js";
import type { SignalEntityOptions } from "./context.js";
import { type AnyEntity, checkEntityKey, checkEntityName, isEntityDefinition, operationNames } from "./definition.js";
import { UnknownEntityOperationError } from "./errors.js";

/** What a client sees of an entity. */
export interface EntityStatus<S = unknown> {
  name: string;
  key: string;
  /** False for an entity never written (or whose state was deleted). */
  exists: boolean;
  /** The state; for an entity that does not exist, its initial state if the client passed the definition. */
  state: S | undefined;
  /** When an operation last changed the state. */
  lastModified?: Date;
  /** The orchestration instance whose critical section holds the entity, if any. */
  lockedBy?: string;
}

export interface ListEntitiesOptions {
  /** Only entities of this name (or definition). */
  name?: string | AnyEntity;
  /** Only keys starting with this. */
  keyPrefix?: string;
  /** Also list entities without state (never written or deleted, with a row left). Default false. */
  includeEmpty?: boolean;
  /** Entities per page, 1–1000. Default 100. */
  pageSize?: number;
  /** The `continuationToken` of the previous page. */
  continuationToken?: string;
}

export interface EntityPageResult {
  entities: EntityStatus[];
  /** Pass as `continuationToken` to get the next page; absent on the last page. */
  continuationToken?: string;
}

/** One message applied to an entity, from its log of recent operations. */
export interface EntityOperationEntry {
  /** `signal` (one-way) or `call` (an orchestration waited for the result); `lock` / `unlock`: a critical section took / let go of the entity. */
  kind: EntityOperationKind;
  /** The operation's name (absent for `lock` and `unlock`). */
  operation?: string;
  /** An orchestration (`instanceId`), another entity's operation (`name`, `key`), or a client (HTTP and CLI included). */
  sender: EntityOperationSender;
  /** When the batch that applied it ran. */
  appliedAt: Date;
  /** False if the operation threw: the entity's state is as it was before it. */
  ok: boolean;
  /** The error of a failed operation: its class name and message (cut to 1,000 characters). */
  error?: { name: string; message: string };
  /** The input as JSON, cut to 200 characters; absent when the operation had none. */
  inputPreview?: string;
}

/** An entity's recent operations, newest first, and how many are waiting for it. */
export interface EntityOperationsResult {
  operations: EntityOperationEntry[];
  /** Operations sent to the entity and not applied yet (scheduled signals not yet due included). */
  pending: number;
}

export interface GetEntityOperationsOptions {
  /** At most this many entries, 1–1000 (default: all the store keeps, the last 20). */
  limit?: number;
}

/**
 * The entity side of the client. A signal to an entity name that no worker registers is
 * stored anyway (the client cannot know which names workers have): it waits until a worker
 * with that entity starts.
 */
export class EntityClient {
  private readonly signals: GroupCommit<NewEntityMessage, undefined>;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
  ) {
    // Signals sent in the same tick share one transaction.
    this.signals = new GroupCommit(async (batch) => {
      await this.store.sendEntityMessages(batch);
      return batch.map(() => undefined);
    });
  }

  async signal(
    entity: AnyEntity | string,
    key: string,
    operation: string,
    input: unknown,
    options: SignalEntityOptions = {},
  ): Promise<void> {
    const name = nameOf(entity, "signalEntity");
    checkEntityKey(key, "signalEntity");
    if (typeof operation !== "string" || operation === "") {
      throw new InvalidArgumentError(`signalEntity needs an operation name, got ${JSON.stringify(operation)}.`);
    }
    if (isEntityDefinition(entity) && !Object.hasOwn(entity.operations, operation)) {
      throw new UnknownEntityOperationError(name, operation, operationNames(entity));
    }
    assertSerializable(input, `input of operation "${operation}" of entity "${name}"`);
    const now = this.clock();
    const at = options.at === undefined ? now : toEpochMs(options.at, "signalEntity at");
    await this.signals.submit({ name, key, kind: "operation", operation, input, visibleAt: Math.max(at, now) });
  }

  async get(entity: AnyEntity | string, key: string): Promise<EntityStatus> {
    const name = nameOf(entity, "getEntity");
    checkEntityKey(key, "getEntity");
    const record = await this.store.getEntity(name, key);
    if (record?.exists) return toStatus(record);
    const status: EntityStatus = {
      name,
      key,
      exists: false,
      state: isEntityDefinition(entity) ? entity.initialState() : undefined,
    };
    if (record?.lockedBy !== undefined) status.lockedBy = record.lockedBy;
    return status;
  }

  async operations(
    entity: AnyEntity | string,
    key: string,
    options: GetEntityOperationsOptions = {},
  ): Promise<EntityOperationsResult> {
    const name = nameOf(entity, "getEntityOperations");
    checkEntityKey(key, "getEntityOperations");
    const limit = options.limit ?? ENTITY_OPERATION_LOG_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InvalidArgumentError(`getEntityOperations: limit must be an integer from 1 to 1000, got ${limit}.`);
    }
    const log = await this.store.getEntityOperations(name, key, limit);
    return {
      operations: log.operations.map((record) => ({ ...record, appliedAt: new Date(record.appliedAt) })),
      pending: log.pending,
    };
  }

  async list(options: ListEntitiesOptions = {}): Promise<EntityPageResult> {
    const pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new InvalidArgumentError(`pageSize must be an integer from 1 to 1000, got ${pageSize}.`);
    }
    const query: EntityQuery = { limit: pageSize };
    if (options.name !== undefined) query.name = nameOf(options.name, "listEntities");
    if (options.keyPrefix) query.keyPrefix = String(options.keyPrefix);
    if (options.includeEmpty) query.includeEmpty = true;
    if (options.continuationToken) query.after = decodeToken(options.continuationToken);
    const page = await this.store.listEntities(query);
    const result: EntityPageResult = { entities: page.entities.map(toStatus) };
    if (page.next)
      result.continuationToken = Buffer.from(JSON.stringify([page.next.name, page.next.key])).toString("base64url");
    return result;
  }

  clean(): Promise<EntityCleanup> {
    return this.store.cleanEntityStorage(this.clock());
  }
}

function nameOf(entity: AnyEntity | string, what: string): string {
  if (isEntityDefinition(entity)) return entity.name;
  if (typeof entity === "string") return checkEntityName(entity, what);
  throw new InvalidArgumentError(`${what} needs an entity definition created with entity(), or an entity name.`);
}

function toStatus(record: EntityRecord): EntityStatus {
  const status: EntityStatus = { name: record.name, key: record.key, exists: record.exists, state: record.state };
  if (record.lastModified !== undefined) status.lastModified = new Date(record.lastModified);
  if (record.lockedBy !== undefined) status.lockedBy = record.lockedBy;
  return status;
}

function decodeToken(token: string): EntityId {
  try {
    const [name, key] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown[];
    if (typeof name === "string" && typeof key === "string") return { name, key };
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidArgumentError(
    "continuationToken is not valid: pass the token returned with the previous page, unchanged.",
  );
}
