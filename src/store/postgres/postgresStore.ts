import type pg from "pg";
import type { QueueSettings } from "../../definitions/queue.js";
import { StoreClosedError, StoreUnavailableError } from "../../errors/errors.js";
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
import { GroupCommit } from "../groupCommit.js";
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
import { Database, isConnectionError, sendOnly, type Tx } from "./connection.js";
import { type EntityOperations, entityOperations, entityTablesIn } from "./entities.js";
import { emptySignal, episodeOperations } from "./episodes.js";
import { instanceOperations, tablesIn } from "./instances.js";
import { managementOperations } from "./management.js";
import { migrate } from "./migrate.js";
import { Notifications } from "./notifications.js";
import { type PostgresStoreOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { openPool } from "./pool.js";
import { queryOperations } from "./queries.js";
import { queueOperations } from "./queues.js";
import { Reservations } from "./reservations.js";

/**
 * The store for many processes and machines: PostgreSQL, through a `pg` pool. Leases with
 * fencing tokens keep workers from advancing one instance twice; LISTEN/NOTIFY wakes idle
 * workers (and waiting clients) in other processes when work appears.
 */
export class PostgresStore implements Store {
  readonly location: string;
  /** The schema that holds the store's tables. */
  readonly schema: string;
  private readonly db: Database;
  private readonly notifications: Notifications;
  private readonly instances: ReturnType<typeof instanceOperations>;
  private readonly instanceReads: GroupCommit<string, InstanceRecord | undefined>;
  private readonly claims: ReturnType<typeof claimOperations>;
  private readonly reservations: Reservations;
  private readonly episodes: ReturnType<typeof episodeOperations>;
  private readonly management: ReturnType<typeof managementOperations>;
  private readonly queries: ReturnType<typeof queryOperations>;
  private readonly entities: EntityOperations;
  private readonly queues: ReturnType<typeof queueOperations>;
  private readonly listeners = new Set<(notification: StoreNotification) => void>();
  private closed = false;

  private constructor(resolved: ResolvedOptions, pool: pg.Pool) {
    this.location = resolved.location;
    this.schema = resolved.schema;
    this.db = new Database(pool, resolved.location);
    const tables = tablesIn(resolved.quotedSchema);
    this.notifications = new Notifications(resolved.schema, resolved.pool, (n) => this.notify(n));
    this.instances = instanceOperations(tables);
    this.instanceReads = new GroupCommit((ids) => this.instances.getMany(this.reader(), ids));
    this.claims = claimOperations(this.db, tables);
    this.reservations = new Reservations(resolved.pool, tables, resolved.schema, (e) => this.db.wrap(e));
    this.management = managementOperations(
      tables,
      this.instances,
      entityTablesIn(resolved.quotedSchema),
      (tx, messages) => this.entities.send(tx, messages),
    );
    this.queries = queryOperations(this.db, tables);
    this.queues = queueOperations(tables);
    this.entities = entityOperations(this.db, tables, entityTablesIn(resolved.quotedSchema), this.instances);
    this.episodes = episodeOperations(
      this.db,
      tables,
      this.instances,
      (tx, signal) => this.notifications.publish(tx, signal),
      (tx, commits, results, signal) => this.entities.afterEpisodes(tx, commits, results, signal),
    );
  }

  /** Connects, migrates the schema and starts listening; see `postgresStore`. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const resolved = resolveOptions(options);
    const pool = openPool(resolved.pool);
    let store: PostgresStore | undefined;
    try {
      const client = await pool.connect().catch((error: unknown) => {
        throw new StoreUnavailableError(resolved.location, error);
      });
      try {
        await migrate(client, resolved.schema, resolved.location);
      } finally {
        client.release();
      }
      store = new PostgresStore(resolved, pool);
      await store.notifications.start();
      return store;
    } catch (error) {
      await store?.notifications.close();
      await pool.end().catch(() => undefined);
      throw isConnectionError(error) && !(error instanceof StoreUnavailableError)
        ? new StoreUnavailableError(resolved.location, error)
        : error;
    }
  }

  readonly notifiesAcrossProcesses = true;

  get commitCount(): number {
    return this.db.commitCount;
  }

  async createInstances(requests: NewInstance[]): Promise<(Error | undefined)[]> {
    const results = await this.write(async (tx) => {
      const refusals = await this.instances.create(tx, requests);
      if (refusals.some((r) => r === undefined)) sendOnly(this.notifications.publish(tx, { work: true, finished: [] }));
      return refusals;
    });
    if (results.some((r) => r === undefined)) this.notify({ kind: "work" });
    return results;
  }

  /** Reads made at the same moment (clients waiting for many instances) share one statement. */
  async getInstance(instanceId: string): Promise<InstanceRecord | undefined> {
    this.assertOpen();
    return this.instanceReads.submit(instanceId);
  }

  /** Through the shared instance reads: a statement of its own would cost a round trip more than it saves. */
  async getRuntimeStatus(instanceId: string): Promise<RuntimeStatus | undefined> {
    return (await this.getInstance(instanceId))?.runtimeStatus;
  }

  async getHistory(instanceId: string): Promise<HistoryEvent[]> {
    return this.instances.history(this.reader(), instanceId);
  }

  async terminateInstance(instanceId: string, reason: string, now: number): Promise<RuntimeStatus> {
    const previous = await this.write(async (tx) => {
      const status = await this.management.terminate(tx, instanceId, reason, now);
      if (!isTerminal(status)) {
        await this.entities.releaseLocksOf(tx, instanceId, now);
        await this.notifications.publish(tx, { work: true, finished: [{ instanceId, status: "Terminated" }] });
      }
      return status;
    });
    this.notify({ kind: "instance-updated", instanceId, status: "Terminated" });
    this.notify({ kind: "work" });
    return previous;
  }

  async listChildren(instanceId: string): Promise<string[]> {
    return this.management.children(this.reader(), instanceId);
  }

  async raiseEvent(instanceId: string, eventName: string, input: unknown, now: number): Promise<RuntimeStatus> {
    const previous = await this.write(async (tx) => {
      const status = await this.management.raiseEvent(tx, instanceId, eventName, input, now);
      await this.workFor(tx);
      return status;
    });
    this.notify({ kind: "work" });
    return previous;
  }

  async setSuspended(instanceId: string, suspended: boolean, reason: string, now: number): Promise<RuntimeStatus> {
    const { previous, next } = await this.write(async (tx) => {
      const change = await this.management.setSuspended(tx, instanceId, suspended, reason, now);
      await this.workFor(tx);
      return change;
    });
    this.notify({ kind: "instance-updated", instanceId, status: next });
    this.notify({ kind: "work" });
    return previous;
  }

  async rewindInstance(instanceId: string, reason: string, now: number): Promise<string[]> {
    const children = await this.write(async (tx) => {
      const failed = await this.management.rewind(tx, instanceId, reason, now);
      await this.workFor(tx);
      return failed;
    });
    this.notify({ kind: "instance-updated", instanceId, status: "Running" });
    this.notify({ kind: "work" });
    return children;
  }

  async purgeInstances(selector: PurgeSelector): Promise<number> {
    return this.write((tx) => this.management.purge(tx, selector));
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
    if (reserveUntil === undefined) return this.claims.findReadyInstances(workerId, now, limit, busy, queues);
    return this.reservations.poll(workerId, now, limit, busy, queues, reserveUntil);
  }

  async readInbox(instanceId: string, now: number): Promise<InboxMessage[]> {
    this.assertOpen();
    return this.claims.readInbox(instanceId, now);
  }

  async commitEpisodes(commits: EpisodeCommit[]): Promise<EpisodeCommitResult[]> {
    this.assertOpen();
    // Landed or refused, the first commit ends the instance's reservation.
    const { results, signal } = await this.episodes.commit(commits).finally(() => this.reservations.settle(commits));
    // Work for others: messages sent (a finished child's notice to its parent, timers, …).
    let wakeWorkers = signal.work;
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
    return this.claims.claimActivityTasks(workerId, now, leaseExpiresAt, limit, queues);
  }

  async deliverActivityResults(deliveries: ActivityResultDelivery[], now: number): Promise<boolean[]> {
    this.assertOpen();
    const results = await this.episodes.deliver(deliveries, now);
    if (results.some(Boolean)) this.notify({ kind: "work" });
    return results;
  }

  async renewLeases(workerId: string, leaseExpiresAt: number): Promise<void> {
    this.assertOpen();
    await this.claims.renewLeases(workerId, leaseExpiresAt);
  }

  async releaseLeases(workerId: string, instanceIds?: string[]): Promise<void> {
    await this.reservations.release(workerId, instanceIds);
    await this.write(async (tx) => {
      // Other processes' workers may take the released instances and tasks now.
      const released = await this.claims.releaseLeases(tx, workerId, instanceIds);
      const releasedEntities = instanceIds === undefined && (await this.entities.releaseLeases(tx, workerId));
      if (released || releasedEntities) await this.workFor(tx);
    });
    this.notify({ kind: "work" });
  }

  async listLeaseOwners(): Promise<string[]> {
    this.assertOpen();
    const [owners, entityOwners] = await Promise.all([this.claims.listLeaseOwners(), this.entities.leaseOwners()]);
    return [...new Set([...owners, ...entityOwners])];
  }

  async nextDueTime(now: number, workerId: string, queues?: string[]): Promise<number | undefined> {
    this.assertOpen();
    const [due, entityDue] = await Promise.all([
      this.claims.nextDueTime(now, workerId, queues),
      this.entities.nextDueTime(now, workerId),
    ]);
    if (due === undefined) return entityDue;
    return entityDue === undefined ? due : Math.min(due, entityDue);
  }

  // Entities (the SQL is in entities.ts) ---------------------------------------------------

  async sendEntityMessages(messages: NewEntityMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.write(async (tx) => {
      sendOnly(this.entities.send(tx, messages));
      await this.workFor(tx);
    });
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
    this.assertOpen();
    return this.entities.claim(workerId, entities, now, leaseExpiresAt);
  }

  async readEntities(entities: EntityId[], now: number, maxMessages: number): Promise<EntitySnapshot[]> {
    this.assertOpen();
    return this.entities.read(entities, now, maxMessages);
  }

  async commitEntityBatches(commits: EntityCommit[]): Promise<EntityCommitResult[]> {
    this.assertOpen();
    const { results, work } = await this.entities.commit(commits, (tx) => this.workFor(tx));
    if (work) this.notify({ kind: "work" });
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
    const cleanup = await this.write(async (tx) => {
      const done = await this.entities.clean(tx, now);
      if (done.orphanedLocksReleased > 0) await this.workFor(tx);
      return done;
    });
    if (cleanup.orphanedLocksReleased > 0) this.notify({ kind: "work" });
    return cleanup;
  }

  async configureQueues(queues: QueueSettings[], now: number): Promise<void> {
    if (queues.length === 0) return;
    await this.write(async (tx) => {
      await this.queues.configure(tx, queues, now);
      // A queue that lost its limits may have tasks to claim at once.
      await this.workFor(tx);
    });
    this.notify({ kind: "work" });
  }

  async listQueues(): Promise<QueueSettings[]> {
    return this.queues.list(this.reader());
  }

  subscribe(listener: (notification: StoreNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.reservations.close();
    await this.notifications.close();
    await this.db.pool.end();
  }

  private write<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.db.transaction(body);
  }

  /** The pool, for single-statement reads. */
  private reader(): Tx {
    this.assertOpen();
    return this.db;
  }

  private workFor(tx: Tx): Promise<void> {
    const signal = emptySignal();
    signal.work = true;
    return this.notifications.publish(tx, signal);
  }

  private notify(notification: StoreNotification): void {
    for (const listener of this.listeners) listener(notification);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/**
 * Opens a Perdure store in a PostgreSQL database: connects, creates or migrates its schema
 * (under an advisory lock, so many processes may start at once) and starts listening for
 * other processes' work. Fails with STORE_UNAVAILABLE if the server cannot be reached,
 * SCHEMA_TOO_NEW if the schema is newer than this code, and NOT_A_PERDURE_DATABASE if the
 * schema holds tables of something else.
 */
export function postgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(options);
}

export type { PostgresStoreOptions } from "./options.js";
