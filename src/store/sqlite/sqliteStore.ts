import type Database from "better-sqlite3";
import type { QueueSettings } from "../../definitions/queue.js";
import { StoreClosedError } from "../../errors/errors.js";
import type { HistoryEvent } from "../../history/events.js";
import type {
  EntityCleanup,
  EntityCommit,
  EntityCommitResult,
  EntityId,
  EntityOperationLog,
  EntityPage,
  EntityQuery,
  EntityRecord,
  EntitySnapshot,
  NewEntityMessage,
  ReadyEntity,
} from "../entityStore.js";
import type {
  ActivityResultDelivery,
  ActivityTask,
  EpisodeCommit,
  EpisodeCommitResult,
  InboxMessage,
  InstancePage,
  InstanceQuery,
  InstanceRecord,
  NewInstance,
  PurgeSelector,
  ReadyInstance,
  RuntimeStatus,
  Store,
  StoreNotification,
} from "../store.js";
import { isTerminal } from "../store.js";
import { claimOperations } from "./claims.js";
import { type EntityOperations, entityOperations } from "./entities.js";
import { episodeOperations } from "./episodes.js";
import { heldTaskOperations } from "./heldTasks.js";
import { instanceOperations } from "./instances.js";
import { managementOperations } from "./management.js";
import { openDatabase } from "./openDatabase.js";
import { queryOperations } from "./queries.js";
import { queueOperations } from "./queues.js";
import { ReadBatch } from "./readBatch.js";
import { TaskIdAllocator } from "./taskIds.js";

export interface SqliteStoreOptions {
  /**
   * "full" (default): every commit is fsynced; nothing acknowledged is lost, even when the
   * machine loses power. "normal": commits survive a crash of the process but the last ones
   * may be lost on power loss or an OS crash; several times faster on slow disks.
   */
  durability?: "full" | "normal";
  /** How long a write waits for another process holding the file's write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * The embedded store: one SQLite file in WAL mode. Several processes may share the file;
 * leases keep them from advancing the same instance twice.
 */
export class SqliteStore implements Store {
  readonly location: string;
  private readonly db: Database.Database;
  private readonly instances: ReturnType<typeof instanceOperations>;
  private readonly claims: ReturnType<typeof claimOperations>;
  private readonly episodes: ReturnType<typeof episodeOperations>;
  private readonly management: ReturnType<typeof managementOperations>;
  private readonly queries: ReturnType<typeof queryOperations>;
  private readonly entities: EntityOperations;
  private readonly queues: ReturnType<typeof queueOperations>;
  private readonly taskIds: TaskIdAllocator;
  private readonly listeners = new Set<(notification: StoreNotification) => void>();
  private readonly totalChanges: Database.Statement;
  /** Runs a function in an IMMEDIATE transaction; made once (db.transaction() costs ~5 us a call). */
  private readonly immediate: (fn: () => unknown) => unknown;
  private commits = 0;
  /** total_changes() after the last write: what the next one is compared with. */
  private changesCounted = 0;
  private closed = false;
  /** Status and record reads of one turn, in one read transaction (clients waiting in bursts). */
  private readonly reads: ReadBatch;

  constructor(filename: string, options: SqliteStoreOptions = {}) {
    ({ db: this.db, location: this.location } = openDatabase(filename, options));
    this.instances = instanceOperations(this.db);
    this.taskIds = new TaskIdAllocator(this.db);
    this.queues = queueOperations(this.db);
    const held = heldTaskOperations(this.db);
    this.claims = claimOperations(this.db, this.queues, held);
    this.episodes = episodeOperations(this.db, this.instances, this.queues, this.taskIds, held);
    this.management = managementOperations(this.db, this.instances, (messages) => this.entities.send(messages));
    this.queries = queryOperations(this.db);
    this.entities = entityOperations(this.db, this.instances);
    this.totalChanges = this.db.prepare("SELECT total_changes()").pluck();
    this.changesCounted = this.totalChanges.get() as number;
    this.immediate = this.db.transaction((fn: () => unknown) => fn()).immediate;
    this.reads = new ReadBatch(this.db);
  }

  /** Notifications reach listeners of this store object only; other processes are polled. */
  readonly notifiesAcrossProcesses = false;

  get commitCount(): number {
    return this.commits;
  }

  async createInstances(requests: NewInstance[]): Promise<(Error | undefined)[]> {
    const results = this.write(() => requests.map((request) => this.instances.create(request)));
    if (results.some((r) => r === undefined)) this.notify({ kind: "work" });
    return results;
  }

  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    this.assertOpen();
    return this.reads.run(() => this.instances.get(instanceId));
  }

  async getRuntimeStatus(instanceId: string): Promise<RuntimeStatus | undefined> {
    this.assertOpen();
    return this.reads.run(() => this.instances.status(instanceId));
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    this.assertOpen();
    return this.instances.history(instanceId);
  }

  async terminateInstance(instanceId: string, reason: string, now: number): Promise<RuntimeStatus> {
    const previous = this.write(() => {
      const status = this.management.terminate(instanceId, reason, now);
      if (!isTerminal(status)) this.entities.releaseLocksOf(instanceId, now);
      return status;
    });
    this.notify({ kind: "instance-updated", instanceId, status: "Terminated" });
    this.notify({ kind: "work" });
    return previous;
  }

  async listChildren(instanceId: string): Promise<string[]> {
    this.assertOpen();
    return this.management.children(instanceId);
  }

  async raiseEvent(instanceId: string, eventName: string, input: unknown, now: number): Promise<RuntimeStatus> {
    const previous = this.write(() => this.management.raiseEvent(instanceId, eventName, input, now));
    this.notify({ kind: "work" });
    return previous;
  }

  async setSuspended(instanceId: string, suspended: boolean, reason: string, now: number): Promise<RuntimeStatus> {
    const previous = this.write(() => this.management.setSuspended(instanceId, suspended, reason, now));
    const status = this.instances.status(instanceId) ?? previous;
    this.notify({ kind: "instance-updated", instanceId, status });
    this.notify({ kind: "work" });
    return previous;
  }

  async rewindInstance(instanceId: string, reason: string, now: number): Promise<string[]> {
    const children = this.write(() => this.management.rewind(instanceId, reason, now));
    this.notify({ kind: "instance-updated", instanceId, status: "Running" });
    this.notify({ kind: "work" });
    return children;
  }

  async purgeInstances(selector: PurgeSelector): Promise<number> {
    return this.write(() => this.management.purge(selector));
  }

  async listInstances(query: InstanceQuery): Promise<InstancePage> {
    this.assertOpen();
    return this.queries.list(query);
  }

  async findReadyInstances(
    workerId: string,
    now: number,
    limit: number,
    busy: string[],
    queues?: string[],
    reserveUntil?: number,
  ): Promise<ReadyInstance[]> {
    this.assertOpen();
    // A read-only look first: most polls find nothing, and must not take the write lock for that.
    const ready = this.claims.findReadyInstances(workerId, now, limit, busy, queues);
    if (reserveUntil === undefined || ready.length === 0) return ready;
    // SQLite reserves with the lease itself: a row lease until then.
    return this.write(() => this.claims.claimReadyInstances(workerId, now, limit, busy, queues, reserveUntil));
  }

  async readInbox(instanceId: string, now: number): Promise<InboxMessage[]> {
    this.assertOpen();
    return this.claims.readInbox(instanceId, now);
  }

  async commitEpisodes(commits: EpisodeCommit[]): Promise<EpisodeCommitResult[]> {
    let sentToEntities = false;
    const results = this.write(() => {
      const written = this.episodes.commit(commits);
      sentToEntities = this.entities.afterEpisodes(commits, written);
      return written;
    });
    let wakeWorkers = sentToEntities || this.episodes.takeParentNotices();
    commits.forEach((c, i) => {
      const result = results[i];
      if (!result?.ok) return;
      this.notify({ kind: "instance-updated", instanceId: c.instanceId, status: c.status });
      const createsWork = c.newTimers.length > 0 || c.newInstances.length > 0 || c.continueAsNew !== undefined;
      if (createsWork || result.leased.some((leased) => !leased)) wakeWorkers = true;
    });
    if (wakeWorkers) this.notify({ kind: "work" });
    return results;
  }

  async claimActivityTasks(
    workerId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    queues?: string[],
  ): Promise<ActivityTask[]> {
    this.assertOpen();
    if (!this.claims.hasClaimableTasks(now, queues)) return [];
    return this.write(() => this.claims.claimActivityTasks(workerId, now, leaseExpiresAt, limit, queues));
  }

  async deliverActivityResults(deliveries: ActivityResultDelivery[], now: number): Promise<boolean[]> {
    const results = this.write(() => this.episodes.deliver(deliveries, now));
    if (results.some(Boolean)) this.notify({ kind: "work" });
    return results;
  }

  async renewLeases(workerId: string, leaseExpiresAt: number): Promise<void> {
    this.write(() => this.claims.renewLeases(workerId, leaseExpiresAt));
  }

  async releaseLeases(workerId: string, instanceIds?: string[]): Promise<void> {
    this.write(() => {
      this.claims.releaseLeases(workerId, instanceIds);
      if (!instanceIds) this.entities.releaseLeases(workerId);
    });
    this.notify({ kind: "work" });
  }

  async listLeaseOwners(): Promise<string[]> {
    this.assertOpen();
    return [...new Set([...this.claims.listLeaseOwners(), ...this.entities.leaseOwners()])];
  }

  async nextDueTime(now: number, workerId: string, queues?: string[]): Promise<number | undefined> {
    this.assertOpen();
    return earliest(this.claims.nextDueTime(now, workerId, queues), this.entities.nextDueTime(now, workerId));
  }

  async configureQueues(queues: QueueSettings[], now: number): Promise<void> {
    if (queues.length === 0) return;
    this.write(() => this.queues.configure(queues, now));
    // A queue that lost its limits may have tasks to claim at once.
    this.notify({ kind: "work" });
  }

  async listQueues(): Promise<QueueSettings[]> {
    this.assertOpen();
    return this.queues.list();
  }

  subscribe(listener: (notification: StoreNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Entities (the SQL is in entities.ts) ---------------------------------------------------

  async sendEntityMessages(messages: NewEntityMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.write(() => this.entities.send(messages));
    this.notify({ kind: "work" });
  }

  async findReadyEntities(
    workerId: string,
    now: number,
    limit: number,
    names: string[],
    busy: EntityId[],
  ): Promise<ReadyEntity[]> {
    this.assertOpen();
    return this.entities.findReady(workerId, now, limit, names, busy);
  }

  async claimEntities(
    workerId: string,
    entities: ReadyEntity[],
    now: number,
    leaseExpiresAt: number,
  ): Promise<ReadyEntity[]> {
    if (entities.length === 0) return [];
    return this.write(() => this.entities.claim(workerId, entities, now, leaseExpiresAt));
  }

  async readEntities(entities: EntityId[], now: number, maxMessages: number): Promise<EntitySnapshot[]> {
    this.assertOpen();
    return this.entities.read(entities, now, maxMessages);
  }

  async commitEntityBatches(commits: EntityCommit[]): Promise<EntityCommitResult[]> {
    const results = this.write(() => this.entities.commit(commits));
    const createsWork = commits.some(
      (c, i) => results[i]?.ok && (c.replies.length > 0 || c.messages.length > 0 || c.newInstances.length > 0),
    );
    if (createsWork) this.notify({ kind: "work" });
    return results;
  }

  async getEntity(name: string, key: string): Promise<EntityRecord | undefined> {
    this.assertOpen();
    return this.entities.get(name, key);
  }

  async getEntityOperations(name: string, key: string, limit: number): Promise<EntityOperationLog> {
    this.assertOpen();
    return this.entities.getOperations(name, key, limit);
  }

  async listEntities(query: EntityQuery): Promise<EntityPage> {
    this.assertOpen();
    return this.entities.list(query);
  }

  async cleanEntityStorage(now: number): Promise<EntityCleanup> {
    const cleanup = this.write(() => this.entities.clean(now));
    if (cleanup.orphanedLocksReleased > 0) this.notify({ kind: "work" });
    return cleanup;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  /** Runs `fn` in one IMMEDIATE transaction (it takes the write lock up front, avoiding upgrade deadlocks). */
  private write<T>(fn: () => T): T {
    this.assertOpen();
    // Only this connection's writes move total_changes() (rolled-back ones too), all from here.
    let result: T;
    try {
      result = this.immediate(fn) as T;
    } catch (error) {
      this.taskIds.discard();
      this.changesCounted = this.totalChanges.get() as number;
      throw error;
    }
    // A transaction that changed nothing writes nothing to the WAL, so it is not a commit.
    const changes = this.totalChanges.get() as number;
    if (changes > this.changesCounted) this.commits++;
    this.changesCounted = changes;
    return result;
  }

  private notify(notification: StoreNotification): void {
    for (const listener of this.listeners) listener(notification);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** The earlier of two optional times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

/** Opens (creating if needed) a Perdure store in an SQLite file. */
export function sqliteStore(filename: string, options?: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(filename, options);
}
