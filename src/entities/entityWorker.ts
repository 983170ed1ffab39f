import { InvalidArgumentError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import type { EntityCommit, EntityCommitResult, EntityId, EntitySnapshot } from "../store/entityStore.js";
import { GroupCommit } from "../store/groupCommit.js";
import type { Store } from "../store/store.js";
import { runEntityBatch } from "./batch.js";
import { type AnyEntity, isEntityDefinition } from "./definition.js";

/** Most messages one batch applies: bounds a batch's memory and its commit, not its throughput. */
export const MAX_BATCH_MESSAGES = 1_000;
/** Entities found per poll. */
const FIND_LIMIT = 100;
/** After a batch could not be committed (the store failed), leave the entity alone this long. */
const BACKOFF_MS = 1_000;

/** What the entity side needs from its worker. */
export interface EntityWorkerHost {
  readonly store: Store;
  readonly workerId: string;
  readonly logger: Logger;
  now(): number;
  leaseExpiry(now: number): number;
  /** Asks the poll loop to look for work again soon. */
  wakeUp(): void;
}

/**
 * The entity half of a worker: finds entities with messages it can apply, applies a batch
 * to each (entities in parallel, each entity's messages one at a time) and commits the
 * batches of many entities together. Nothing is kept in memory between batches: the store
 * is the entity's only copy, and the lease token fences out a worker that lost the entity.
 *
 * A worker applies messages only to entities it holds the lease of, so that operations on
 * one entity never run on two workers at once (not merely never commit twice): it claims
 * the entities it found (one write for all of them), and each batch commit extends the
 * lease, so a busy entity stays with its worker without further claims. The lease is not
 * renewed otherwise: an idle entity is free again once it runs out.
 */
export class EntityWorker {
  private readonly definitions = new Map<string, AnyEntity>();
  private readonly busy = new Map<string, EntityId>();
  private readonly backoff = new Map<string, { id: EntityId; until: number }>();
  private readonly running = new Set<Promise<void>>();
  private readonly commits: GroupCommit<EntityCommit, EntityCommitResult>;

  constructor(
    private readonly host: EntityWorkerHost,
    definitions: readonly AnyEntity[],
  ) {
    for (const definition of definitions) {
      if (!isEntityDefinition(definition)) {
        throw new InvalidArgumentError("createWorker: every entry of entities must be made with entity().");
      }
      if (this.definitions.has(definition.name)) {
        throw new InvalidArgumentError(`createWorker: two entity definitions are named "${definition.name}".`);
      }
      this.definitions.set(definition.name, definition);
    }
    this.commits = new GroupCommit((batch) => host.store.commitEntityBatches(batch));
  }

  /** The registered definition of an entity name. */
  find(name: string): AnyEntity | undefined {
    return this.definitions.get(name);
  }

  /** Starts a batch for each entity with applicable messages. True if it found any. */
  async poll(now: number): Promise<boolean> {
    if (this.definitions.size === 0) return false;
    for (const [id, entry] of this.backoff) if (entry.until <= now) this.backoff.delete(id);
    const skip = [...this.busy.values(), ...[...this.backoff.values()].map((b) => b.id)];
    const ready = await this.host.store.findReadyEntities(
      this.host.workerId,
      now,
      FIND_LIMIT,
      [...this.definitions.keys()],
      skip,
    );
    if (ready.length === 0) return false;
    for (const entity of ready) this.busy.set(idOf(entity), { name: entity.name, key: entity.key });
    let snapshots: EntitySnapshot[];
    try {
      // Entities held with at least half a lease left need no claim: their batch commits extend it.
      const expiry = this.host.leaseExpiry(now);
      const held = ready.filter((r) => r.leasedUntil !== undefined && r.leasedUntil - now >= (expiry - now) / 2);
      const toClaim = ready.filter((r) => !held.includes(r));
      const claimed =
        toClaim.length > 0 ? await this.host.store.claimEntities(this.host.workerId, toClaim, now, expiry) : [];
      const taken = [...held, ...claimed];
      const takenIds = new Set(taken.map(idOf));
      for (const entity of ready) if (!takenIds.has(idOf(entity))) this.busy.delete(idOf(entity));
      snapshots = taken.length > 0 ? await this.host.store.readEntities(taken, now, MAX_BATCH_MESSAGES) : [];
      for (const entity of taken) {
        if (!snapshots.some((s) => idOf(s) === idOf(entity))) this.busy.delete(idOf(entity));
      }
    } catch (error) {
      for (const entity of ready) this.busy.delete(idOf(entity));
      throw error;
    }
    for (const snapshot of snapshots) this.track(this.process(snapshot));
    return snapshots.length > 0;
  }

  /** Resolves once every batch started so far is committed (or given up). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
    await this.commits.idle();
  }

  private async process(snapshot: EntitySnapshot): Promise<void> {
    const id = idOf(snapshot);
    try {
      const definition = this.definitions.get(snapshot.name);
      if (!definition) return;
      const now = this.host.now();
      const commit = await runEntityBatch(definition, snapshot, {
        workerId: this.host.workerId,
        now,
        leaseExpiresAt: this.host.leaseExpiry(now),
        logger: this.host.logger,
      });
      if (!commit) return;
      const result = await this.commits.submit(commit);
      if (!result.ok && result.reason === "error") throw result.error;
    } catch (error) {
      this.host.logger.error(
        `[perdure] could not apply messages to entity ${snapshot.name}@${snapshot.key}; retrying soon`,
        error,
      );
      this.backoff.set(id, { id: { name: snapshot.name, key: snapshot.key }, until: this.host.now() + BACKOFF_MS });
    } finally {
      this.busy.delete(id);
      // More may be waiting (a full batch, messages that came meanwhile, a fenced-out batch).
      this.host.wakeUp();
    }
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }
}

function idOf(entity: EntityId): string {
  return JSON.stringify([entity.name, entity.key]);
}
