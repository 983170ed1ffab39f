import type { QueueSettings } from "../definitions/queue.js";
import type { FailureDetails } from "../errors/failure.js";
import type { HistoryEvent, IncomingEvent, ParentLink } from "../history/events.js";
import type { EntityStore, NewEntityMessage } from "./entityStore.js";

/**
 * Runtime statuses, as Durable Functions names them.
 * - Pending: created, no worker has run it yet.
 * - Running: a worker has started it; it may be waiting on activities or timers.
 * - Suspended: paused by a client; it advances no further until resumed.
 * - Completed: the orchestration returned; `output` holds its result.
 * - Failed: the orchestration threw (or could not run); `failure` says why.
 * - Terminated: stopped by a client; the reason is in its history.
 * - ContinuedAsNew: restarted itself with fresh history.
 */
export type RuntimeStatus =
  | "Pending"
  | "Running"
  | "Suspended"
  | "Completed"
  | "Failed"
  | "Terminated"
  | "ContinuedAsNew";

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** One instance as stored. Times are milliseconds since the epoch. */
export interface InstanceRecord {
  instanceId: string;
  name: string;
  executionId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  failure?: FailureDetails;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  /** The orchestration that started this one as a sub-orchestration. */
  parentInstanceId?: string;
  /** The queue of its orchestration: only workers serving it run its episodes. */
  queue: string;
}

export interface NewInstance {
  instanceId: string;
  name: string;
  executionId: string;
  input: unknown;
  createdAt: number;
  /** Replace an existing instance of the same id, if (and only if) it has finished. */
  replaceIfFinished: boolean;
  /** Set for a sub-orchestration: where its outcome is sent. */
  parent?: ParentLink;
  /** Do not start before this time (scheduled start). Default: at once. */
  startAt?: number;
  /** The queue of its orchestration (kept by continue-as-new). Default "default". */
  queue?: string;
}

/** The first event of an instance's history: what its first episode is given. */
export function executionStartedEvent(request: NewInstance): IncomingEvent {
  const event: IncomingEvent = {
    type: "ExecutionStarted",
    timestamp: request.createdAt,
    name: request.name,
    input: request.input,
    executionId: request.executionId,
  };
  if (request.parent) event.parent = request.parent;
  return event;
}

/**
 * An instance with due messages whose lease is free, expired or the asking worker's.
 * `leaseToken` is the token seen; the first episode commit takes the lease only if it is
 * still the same (optimistic claim: no transaction is spent on claiming).
 */
export interface ReadyInstance {
  instanceId: string;
  name: string;
  executionId: string;
  leaseToken: number;
  historyLength: number;
  /** True when the caller holds the instance's lease (a reserving poll took it, or it had it); `leaseToken` is then the lease's. */
  leased?: boolean;
  /** Its due inbox messages at the poll, oldest first: what `readInbox` would have returned. */
  messages: InboxMessage[];
}

/** A message waiting for an instance: a future history event. */
export interface InboxMessage {
  id: number;
  executionId: string;
  event: IncomingEvent;
}

/** One activity execution to run. */
export interface ActivityTask {
  id: number;
  instanceId: string;
  executionId: string;
  step: number;
  attempt: number;
  name: string;
  input: unknown;
  leaseToken: number;
  queue: string;
}

export interface NewActivityTask {
  step: number;
  attempt: number;
  name: string;
  input: unknown;
  /** The activity's queue: only workers serving it claim the task. Default "default". */
  queue?: string;
  /**
   * Lease the task to the committing worker at once (the fast path: it runs it itself).
   * Refused for a queue with limits (see `configureQueues`): such a task is left for
   * `claimActivityTasks`, which alone applies the limits.
   */
  leaseToCommitter: boolean;
}

/**
 * Everything one orchestration episode produced. A store writes it all in one transaction,
 * or nothing of it: the fencing check (lease token and history length) comes first.
 */
export interface EpisodeCommit {
  instanceId: string;
  executionId: string;
  workerId: string;
  /**
   * Eager start: the instance is not stored yet; create it in this commit (refused, with
   * nothing written, if the id exists and may not be replaced). Its ExecutionStarted is among
   * `newEvents` and never goes to the inbox; `leaseToken` is 0 and `acquireLease` set.
   */
  create?: NewInstance;
  /** The lease token the worker holds, or saw when `acquireLease` is set. */
  leaseToken: number;
  /** Take the lease with this commit, if it is free or expired and still at `leaseToken`. */
  acquireLease: boolean;
  /** Number of events already in history; new events are appended from this index. */
  historyLength: number;
  newEvents: HistoryEvent[];
  consumedMessageIds: number[];
  /** The activity tasks whose results this episode recorded (deleted with the commit). */
  completedTaskIds?: number[];
  newTasks: NewActivityTask[];
  /** Durable timers, delivered back to the instance as TimerFired at `fireAt`. */
  newTimers: { step: number; fireAt: number }[];
  /** Steps of timers cancelled by this episode: their TimerFired messages are removed. */
  cancelledTimers: number[];
  /** Sub-orchestrations to create; a refused one is reported to this instance as failed. */
  newInstances: NewInstance[];
  /** Set with status ContinuedAsNew: the instance restarts with a fresh history. */
  continueAsNew?: {
    executionId: string;
    input: unknown;
    /** Events the old execution had received but not used, delivered again. */
    carryOverEvents: IncomingEvent[];
    /** Keep events still waiting in the inbox (else they are dropped). */
    preserveUnprocessedEvents: boolean;
    parent?: ParentLink;
  };
  status: RuntimeStatus;
  output?: unknown;
  failure?: FailureDetails;
  customStatus?: { value: unknown };
  /** Give up the lease with this commit (finished, or evicted from the worker's cache). */
  releaseLease: boolean;
  /** Entity operations, signals, lock requests and releases the episode sends (see entityStore.ts). */
  entityMessages?: NewEntityMessage[];
  now: number;
  leaseExpiresAt: number;
}

/**
 * `lease-lost`: another worker owns the instance now; `error`: the episode could not be
 * written; `refused`: an eager start's instance could not be created.
 */
export type EpisodeCommitResult =
  | {
      ok: true;
      /** The ids of `newTasks`, in order. */
      taskIds: number[];
      /** For each of `newTasks`: whether it was leased to the committer (asked for, and its queue has no limits). */
      leased: boolean[];
      leaseToken: number;
    }
  | { ok: false; reason: "lease-lost" }
  | { ok: false; reason: "error"; error: unknown }
  /** An eager start whose instance id is taken: `error` says so, as `createInstances` would. */
  | { ok: false; reason: "refused"; error: Error };

/** An activity's outcome, sent to an instance the completing worker does not own. */
export interface ActivityResultDelivery {
  taskId: number;
  leaseToken: number;
  instanceId: string;
  executionId: string;
  event: Extract<IncomingEvent, { type: "TaskCompleted" | "TaskFailed" }>;
}

/** Which finished instances to purge: one id, or every finished instance that matches. */
export type PurgeSelector =
  | { instanceId: string }
  | { createdFrom?: number; createdTo?: number; runtimeStatus?: RuntimeStatus[] };

export interface InstanceQuery {
  runtimeStatus?: RuntimeStatus[];
  name?: string;
  /** Created at or after (ms). */
  createdFrom?: number;
  /** Created before (ms). */
  createdTo?: number;
  instanceIdPrefix?: string;
  /** Page size (1–1000). */
  limit: number;
  /** Keyset cursor: the (createdAt, instanceId) of the last row of the previous page. */
  after?: { createdAt: number; instanceId: string };
}

export interface InstancePage {
  instances: InstanceRecord[];
  /** Set when more rows may follow: pass it as `after` for the next page. */
  next?: { createdAt: number; instanceId: string };
}

/** What a store tells listeners in the same process, so that nobody has to poll for it. */
export type StoreNotification =
  | { kind: "work" }
  | { kind: "instance-updated"; instanceId: string; status: RuntimeStatus };

/**
 * The storage seam. Small on purpose: every backend implements these operations and
 * passes the same contract suite. All times are milliseconds since the epoch, passed in by
 * the caller so that tests can control the clock.
 */
export interface Store extends EntityStore {
  /** Where the store lives, for messages ("sqlite:/path/to/file.db"). */
  readonly location: string;

  /** Creates instances in one transaction; a result per request (an error where it was refused). */
  createInstances(requests: NewInstance[]): Promise<(Error | undefined)[]>;
  getInstance(instanceId: string): Promise<InstanceRecord | undefined>;
  /** The instance's runtime status alone, or undefined: what a waiter checks, cheaper than `getInstance` where the store can. */
  getRuntimeStatus(instanceId: string): Promise<RuntimeStatus | undefined>;
  getHistory(instanceId: string): Promise<HistoryEvent[]>;
  /** Stops an active instance at once, fencing out its current owner. Returns the status it had. */
  terminateInstance(instanceId: string, reason: string, now: number): Promise<RuntimeStatus>;
  /** Active sub-orchestrations started by an instance (for recursive terminate). */
  listChildren(instanceId: string): Promise<string[]>;
  /** Queues an external event for an active instance. Returns the status it had. */
  raiseEvent(instanceId: string, eventName: string, input: unknown, now: number): Promise<RuntimeStatus>;
  /** Suspends a Running/Pending instance, or resumes a Suspended one. Returns the status it had. */
  setSuspended(instanceId: string, suspended: boolean, reason: string, now: number): Promise<RuntimeStatus>;
  /** Rewinds a Failed instance to before its failure. Returns the failed sub-orchestrations to rewind too. */
  rewindInstance(instanceId: string, reason: string, now: number): Promise<string[]>;
  /** Deletes finished instances, by id or by filter. Returns how many were deleted. */
  purgeInstances(selector: PurgeSelector): Promise<number>;
  /** Instances matching the query, ordered by creation time then id, a page at a time. */
  listInstances(query: InstanceQuery): Promise<InstancePage>;

  /**
   * Up to `limit` instances of the given queues (default: "default") with due messages and no
   * live lease (or the worker's own), not in `busy`. The first episode's commit takes the
   * lease (cheapest for a lone worker). With `reserveUntil` (workers that compete), the
   * instances returned are also reserved for the worker until then, or until its first commit
   * of each resolves, or `releaseLeases` drops them: other workers' reserving polls skip them,
   * so that workers polling at the same moment get different instances. A store reserves by
   * leasing the row (a write; `leased` is then set) or without a write (PostgreSQL's advisory
   * locks): then a worker that read the instance without reserving may still commit first,
   * and the reserver's commit is refused, as between two lone workers.
   */
  findReadyInstances(
    workerId: string,
    now: number,
    limit: number,
    busy: string[],
    queues?: string[],
    reserveUntil?: number,
  ): Promise<ReadyInstance[]>;
  /** Due messages of an instance's current execution, oldest first. */
  readInbox(instanceId: string, now: number): Promise<InboxMessage[]>;
  /** Commits episodes of many instances in one transaction (group commit). */
  commitEpisodes(commits: EpisodeCommit[]): Promise<EpisodeCommitResult[]>;

  /**
   * Leases up to `limit` activity tasks of the given queues (default: "default") that are due
   * and not leased by a live worker, oldest first. Atomically with the claim, a queue with
   * limits gets no more than its concurrency allows (counting unexpired leases of every
   * worker) and no more than its token bucket holds at `now`.
   */
  claimActivityTasks(
    workerId: string,
    now: number,
    leaseExpiresAt: number,
    limit: number,
    queues?: string[],
  ): Promise<ActivityTask[]>;
  /** Records activity outcomes as inbox messages, each only if its task is still leased as given. */
  deliverActivityResults(deliveries: ActivityResultDelivery[], now: number): Promise<boolean[]>;

  /** Extends every lease the worker holds. */
  renewLeases(workerId: string, leaseExpiresAt: number): Promise<void>;
  /**
   * Gives up the worker's leases and reservations: all of them, or those of the given
   * instances and of their activity tasks (call it only for instances none of whose tasks run
   * in this worker).
   */
  releaseLeases(workerId: string, instanceIds?: string[]): Promise<void>;
  /** Workers that currently hold leases. */
  listLeaseOwners(): Promise<string[]>;
  /**
   * The earliest time after `now` at which a message or task becomes due, another worker's
   * lease ends, or a rate-limited queue with waiting tasks gets its next token. Tasks and
   * queues count only if in `queues` (when given).
   */
  nextDueTime(now: number, workerId: string, queues?: string[]): Promise<number | undefined>;

  /**
   * Sets the limits of these queues for every worker of the store. Each entry replaces what
   * the queue had; one with no limit removes the queue's limits. A rate's bucket starts full.
   */
  configureQueues(queues: QueueSettings[], now: number): Promise<void>;
  /** The queues that have limits, by name. */
  listQueues(): Promise<QueueSettings[]>;

  /** Listens for changes made through this store object. Returns the unsubscribe function. */
  subscribe(listener: (notification: StoreNotification) => void): () => void;
  /** Number of write transactions committed through this store object (for benchmarks). */
  readonly commitCount: number;
  /** True when `subscribe` also hears changes made by other processes (PostgreSQL's NOTIFY). */
  readonly notifiesAcrossProcesses: boolean;
  close(): Promise<void>;
}
