import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { DEFAULT_QUEUE } from "../definitions/queue.js";
import type { AnyEntity } from "../entities/definition.js";
import {
  LeaseLostError,
  PerdureError,
  StoreClosedError,
  StoreUnavailableError,
  UnknownOrchestrationError,
} from "../errors/errors.js";
import type { IncomingEvent, ParentLink } from "../history/events.js";
import type { EpisodeResult } from "../orchestration/episode.js";
import { OrchestrationExecutor } from "../orchestration/executor.js";
import type { Logger } from "../orchestration/logger.js";
import {
  type EpisodeCommit,
  type EpisodeCommitResult,
  executionStartedEvent,
  type InboxMessage,
  type NewInstance,
  type ReadyInstance,
  type Store,
} from "../store/store.js";
import type { ActivityOutcomeEvent } from "./activityExecution.js";
import { episodeCommit, failedEpisode } from "./episodeCommit.js";

/** What a runner needs from its worker. */
export interface RunnerHost {
  readonly store: Store;
  readonly workerId: string;
  readonly logger: Logger;
  now(): number;
  leaseExpiry(now: number): number;
  findOrchestration(name: string): OrchestrationDefinition<never, unknown> | undefined;
  /** The registered entity of a name (its calls fail with UNKNOWN_ENTITY otherwise). */
  findEntity(name: string): AnyEntity | undefined;
  /** Whether the worker serves a queue: it runs that queue's activities only. */
  servesQueue(queue: string): boolean;
  commit(commit: EpisodeCommit): Promise<EpisodeCommitResult>;
  /** Reserves a slot to run an activity here; false when the worker is at its limit. */
  reserveActivitySlot(): boolean;
  releaseActivitySlot(): void;
  /**
   * While a claim of orphaned tasks holds the free slots (until its answer tells how many it
   * used), a promise that resolves when it has; otherwise undefined.
   */
  slotsSettled(): Promise<void> | undefined;
  /** Runs an activity task this runner's commit leased to the worker. */
  runLocalActivity(
    runner: InstanceRunner,
    taskId: number,
    task: { step: number; attempt: number; name: string; input: unknown; queue: string },
  ): void;
  /** Asks the poll loop to look for work again soon. */
  wakeUp(): void;
  /** The runner can no longer advance its instance (lost lease, finished, failed to commit). */
  forget(runner: InstanceRunner): void;
  /** Hands back the leases of an instance whose commit failed (it may have landed all the same). */
  abandon(instanceId: string): void;
  /** Another worker took an instance this one polled: lease instances as they are polled for a while. */
  competitorSeen(): void;
}

/**
 * One instance owned (or about to be owned) by this worker: its executor in memory, its
 * lease token, and a queue that runs its episodes one at a time.
 *
 * States: `owned` is false until the first commit takes the lease; `closed` once the runner
 * was forgotten (finished, lease lost); a closed runner passes activity results on to the
 * store instead of advancing the instance.
 */
export class InstanceRunner {
  owned = false;
  closed = false;
  leaseToken: number;
  historyLength: number;
  readonly executionId: string;
  /** Activity tasks this runner started and that have not reported back. */
  readonly localTasks = new Set<number>();
  lastActiveAt: number;
  /** Do not poll this instance again before this time (after a failed episode). */
  backoffUntil = 0;
  /** Set when a poll left this instance out because it was taking its inbox. */
  missedPoll = false;
  /** Set when a poll was cut short by the worker's limit while this instance was busy. */
  heldRoom = false;
  private executor: OrchestrationExecutor | undefined;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Episodes queued or running that consume inbox messages (a poll's), as opposed to local results. */
  private inboxQueued = 0;
  /**
   * Local results waiting for the episode queued to take them. Results that arrive while an
   * episode runs are fed to the next one together, with one commit: a fan-out of 1,000
   * activities otherwise commits once per result.
   */
  private waitingResults: WaitingResult[] = [];
  /** The instance the next commit creates (an eager start), if any. */
  creating: NewInstance | undefined;
  /** Why the last commit did not land, when the store said (a refused eager start, an error). */
  private lastCommitError: unknown;

  constructor(
    private readonly host: RunnerHost,
    readonly instanceId: string,
    private readonly name: string,
    ready: ReadyInstance,
  ) {
    this.leaseToken = ready.leaseToken;
    this.historyLength = ready.historyLength;
    this.executionId = ready.executionId;
    this.owned = ready.leased === true;
    this.lastActiveAt = host.now();
  }

  /** The orchestration's parent, as its history says (continue-as-new carries it over). */
  get parent(): ParentLink | undefined {
    return this.executor?.parent;
  }

  /** True while an episode is queued or running. */
  get isBusy(): boolean {
    return this.queued > 0;
  }

  /**
   * True while an episode that consumes inbox messages is queued or running: a poll must
   * leave the instance out then, or it would hand the same messages over twice. Episodes of
   * local results and eager starts consume none, so a poll may bring the instance's messages
   * meanwhile (they queue behind); leaving it out for those had every poll made during a
   * sequential workflow (its instance is nearly always busy with one) wake another poll.
   */
  get takesInbox(): boolean {
    return this.inboxQueued > 0;
  }

  /**
   * Processes the due inbox messages the poll brought along (no inbox episode of the runner
   * was queued then, and no other episode consumes messages, so none of them is consumed yet).
   */
  processInbox(messages: InboxMessage[]): Promise<void> {
    this.inboxQueued++;
    return this.enqueue(async () => {
      try {
        if (messages.length === 0) return;
        await this.advance(
          messages.map((m) => m.event),
          messages.map((m) => m.id),
          [],
        );
      } finally {
        this.inboxQueued--;
      }
    });
  }

  /**
   * Feeds a locally run activity's outcome straight into the executor: one commit records
   * it and what the orchestration does next. Resolves to whether that commit landed.
   */
  processLocalResult(taskId: number, event: ActivityOutcomeEvent): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waitingResults.push({ taskId, event, resolve, reject });
      // The first result to wait queues the episode; later ones join it until it starts.
      if (this.waitingResults.length > 1) return;
      let taken: WaitingResult[] = [];
      this.enqueue(async () => {
        taken = this.waitingResults;
        this.waitingResults = [];
        for (const r of taken) this.localTasks.delete(r.taskId);
        if (this.closed || !this.owned) return;
        const recorded = await this.advance(
          taken.map((r) => r.event),
          [],
          taken.map((r) => r.taskId),
        );
        for (const r of taken) r.resolve(recorded);
      })
        // Those not resolved above (the runner was closed) were not recorded; a promise settles once.
        .then(() => {
          for (const r of taken) r.resolve(false);
        })
        .catch((error: unknown) => {
          for (const r of taken) r.reject(error);
        });
    });
  }

  /**
   * Eager start: runs the first episode of an instance that is not stored yet, and the
   * commit of that episode creates it — one transaction where a client's start and a
   * worker's first episode took two, and no poll in between. Resolves with the store's
   * refusal (the id is taken), or undefined once the instance and its first step are stored.
   */
  startEagerly(request: NewInstance): Promise<Error | undefined> {
    const started = executionStartedEvent(request);
    return new Promise((resolve, reject) => {
      this.enqueue(async () => {
        this.creating = request;
        try {
          if (await this.advance([started], [], [])) return resolve(undefined);
          const failure = this.lastCommitError;
          // No reason given: a lease lost on a row this very commit created, which cannot happen.
          resolve(failure instanceof Error ? failure : new LeaseLostError(this.instanceId));
        } finally {
          this.creating = undefined;
        }
      }).catch(reject);
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queued++;
    const run = this.queue.then(work).finally(() => {
      this.queued--;
      this.lastActiveAt = this.host.now();
      // A poll skipped this instance while it took its inbox: messages may be waiting for it
      // now. Or the worker's limit stopped a poll: this instance no longer counts against it.
      if ((this.inboxQueued === 0 && this.missedPoll) || (this.queued === 0 && this.heldRoom)) {
        this.missedPoll = false;
        this.heldRoom = false;
        this.host.wakeUp();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs one episode and commits it. Returns whether the commit landed. */
  private async advance(incoming: IncomingEvent[], consumed: number[], completedTaskIds: number[]): Promise<boolean> {
    if (this.closed) return false;
    const now = this.host.now();
    let result: EpisodeResult;
    try {
      const executor = await this.loadExecutor();
      result = await executor.runEpisode(incoming, now);
    } catch (error) {
      // Divergence from history, an unknown name: the instance cannot go on, record why.
      // Anything else (the store failing) is passing: the episode is retried later. Store
      // errors are PerdureErrors too: a lost connection must not fail the instance.
      if (
        !(error instanceof PerdureError) ||
        error instanceof StoreUnavailableError ||
        error instanceof StoreClosedError
      ) {
        this.backoffUntil = now + 1_000;
        this.close();
        throw error;
      }
      result = failedEpisode(error, now);
    }
    // A claim in flight holds the free slots for a moment; without waiting for it, the
    // activities would be scheduled for any worker to claim: two more transactions each.
    const settling = result.activities.length > 0 ? this.host.slotsSettled() : undefined;
    if (settling) await settling;
    const commit = episodeCommit(this, this.host, result, { consumed, completedTaskIds, now });
    let outcome: EpisodeCommitResult;
    try {
      outcome = await this.host.commit(commit);
    } catch (error) {
      outcome = { ok: false, reason: "error", error };
    }
    // Slots reserved for tasks the store did not lease here (a failed commit, a limited queue).
    commit.newTasks.forEach((task, i) => {
      if (task.leaseToCommitter && !(outcome.ok && outcome.leased[i])) this.host.releaseActivitySlot();
    });
    if (!outcome.ok) {
      // The executor ran ahead of what is durable: it must never be used again.
      this.lastCommitError = outcome.reason === "lease-lost" ? undefined : outcome.error;
      if (outcome.reason === "error") {
        this.host.logger.error(
          `[perdure] could not commit instance ${this.instanceId}; it will be retried`,
          outcome.error,
        );
        this.backoffUntil = now + 1_000;
        this.host.abandon(this.instanceId);
      } else if (outcome.reason === "lease-lost" && commit.acquireLease) {
        this.host.competitorSeen();
      }
      this.close();
      return false;
    }
    this.owned = true;
    this.leaseToken = outcome.leaseToken;
    this.historyLength += commit.newEvents.length;
    if (commit.status !== "Running") {
      this.close();
      return true;
    }
    commit.newTasks.forEach((task, i) => {
      if (!outcome.leased[i]) return;
      const taskId = outcome.taskIds[i] as number;
      this.localTasks.add(taskId);
      this.host.runLocalActivity(this, taskId, { ...task, queue: task.queue ?? DEFAULT_QUEUE });
    });
    return true;
  }

  private async loadExecutor(): Promise<OrchestrationExecutor> {
    if (this.executor) return this.executor;
    const definition = this.host.findOrchestration(this.name);
    if (!definition) throw new UnknownOrchestrationError(this.name, { instanceId: this.instanceId });
    const executor = new OrchestrationExecutor(
      definition as OrchestrationDefinition<unknown, unknown>,
      this.instanceId,
      this.host.logger,
      {
        // A child on a queue served elsewhere is that queue's workers' to know.
        isKnownOrchestration: (name, queue) =>
          !this.host.servesQueue(queue) || this.host.findOrchestration(name) !== undefined,
        isKnownEntity: (name) => this.host.findEntity(name) !== undefined,
      },
    );
    // A new instance has no history yet: nothing to read.
    const history = this.historyLength === 0 ? [] : await this.host.store.getHistory(this.instanceId);
    // historyLength stays what the poll saw, with the lease token it saw: the fence must
    // check the two together. If another worker advanced (or finished) the instance since,
    // the history read here is longer, and the commit must be refused, not appended after it.
    await executor.replay(history);
    this.executor = executor;
    return executor;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.executor = undefined;
    this.host.forget(this);
  }
}

/** A local result waiting for its episode; settles with whether that episode's commit landed. */
interface WaitingResult {
  taskId: number;
  event: ActivityOutcomeEvent;
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}
