import { DEFAULT_QUEUE, type QueueSettings, resolveQueueLimits } from "../definitions/queue.js";
import type { AnyEntity } from "../entities/definition.js";
import { EntityWorker } from "../entities/entityWorker.js";
import { InvalidArgumentError, WorkerStateError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import { GroupCommit } from "../store/groupCommit.js";
import type {
  ActivityTask,
  EpisodeCommit,
  EpisodeCommitResult,
  NewInstance,
  ReadyInstance,
  Store,
} from "../store/store.js";
import { AbandonedLeases } from "./abandonedLeases.js";
import { ActivityRunner } from "./activityRunner.js";
import { ActivitySlots } from "./activitySlots.js";
import { DefinitionRegistry } from "./definitionRegistry.js";
import { InstanceRunner, type RunnerHost } from "./instanceRunner.js";
import { registerLocalWorker } from "./localWorkers.js";
import { PeerWatch } from "./peerWatch.js";
import { stopOnSignals } from "./shutdownSignals.js";
import { newWorkerId } from "./workerIdentity.js";
import {
  type AnyActivity,
  type AnyOrchestration,
  resolveWorkerSettings,
  type Worker,
  type WorkerOptions,
  type WorkerState,
  type WorkerStats,
} from "./workerOptions.js";

export type { AnyActivity, AnyOrchestration, Worker, WorkerOptions, WorkerState, WorkerStats };

/** Creates a worker that runs the given orchestrations and activities from a store. */
export function createWorker(options: WorkerOptions): Worker {
  return new PerdureWorker(options);
}

/** What the testing kit needs of a worker beyond the public interface. */
export interface WorkerControl {
  wakeUp(): void;
  quiescent(): Promise<boolean>;
}

/** A worker and its controls, for the testing kit (not exported from the package). */
export function createControlledWorker(options: WorkerOptions): Worker & WorkerControl {
  return new PerdureWorker(options);
}

class PerdureWorker implements Worker, RunnerHost, WorkerControl {
  readonly id = newWorkerId();
  readonly store: Store;
  readonly workerId = this.id;
  readonly logger: Logger;
  state: WorkerState = "idle";
  private readonly definitions: DefinitionRegistry;
  private readonly runners = new Map<string, InstanceRunner>();
  private readonly commits: GroupCommit<EpisodeCommit, EpisodeCommitResult>;
  private readonly entityWork: EntityWorker;
  private readonly activities: ActivityRunner;
  private readonly maxOrchestrations: number;
  /** The queues this worker serves. */
  readonly queues: readonly string[];
  private readonly queueLimits: QueueSettings[];
  private readonly leaseTtlMs: number;
  private readonly pollIntervalMs: number;
  private readonly evictIdleAfterMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly clock: () => number;
  private readonly slots: ActivitySlots;
  private readonly abandoned: AbandonedLeases;
  private wake: (() => void) | undefined;
  /** Set by `wakeUp`, cleared before each poll: a wake-up that arrives mid-poll is not lost. */
  private wakeRequested = false;
  private readonly peers: PeerWatch;
  private episodesCommitted = 0;
  private episodesRefused = 0;
  private loop: Promise<void> | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private cleanups: (() => void)[] = [];

  constructor(private readonly options: WorkerOptions) {
    if (!options?.store)
      throw new InvalidArgumentError('createWorker needs a store, such as sqliteStore("perdure.db").');
    this.store = options.store;
    this.logger = options.logger ?? console;
    this.definitions = new DefinitionRegistry(options.orchestrations, options.activities);
    const settings = resolveWorkerSettings(options);
    this.slots = new ActivitySlots(settings.maxActivities, settings.maxActivities * LOCAL_BACKLOG_FACTOR, () =>
      this.wakeUp(),
    );
    this.maxOrchestrations = settings.maxOrchestrations;
    this.leaseTtlMs = settings.leaseTtlMs;
    this.pollIntervalMs = settings.pollIntervalMs;
    this.evictIdleAfterMs = settings.evictIdleAfterMs;
    this.shutdownTimeoutMs = settings.shutdownTimeoutMs;
    this.clock = settings.clock;
    this.peers = new PeerWatch(this.store, this.id, settings.leaseOnPoll, this.leaseTtlMs);
    this.queues = this.definitions.servedQueues(options.queues);
    this.queueLimits = resolveQueueLimits(options.queueLimits);
    this.commits = new GroupCommit((batch) => this.store.commitEpisodes(batch));
    this.entityWork = new EntityWorker(this, options.entities ?? []);
    this.abandoned = new AbandonedLeases(this.store, this.id, () => this.wakeUp());
    this.activities = new ActivityRunner(
      {
        store: this.store,
        logger: this.logger,
        now: () => this.now(),
        activity: (name) => this.definitions.activity(name),
        runnerOf: (instanceId) => this.runners.get(instanceId),
        stopped: () => this.state === "stopped",
      },
      this.slots,
    );
  }

  async start(): Promise<void> {
    if (this.state !== "idle") throw new WorkerStateError(`The worker is ${this.state}; a worker starts once.`);
    this.state = "running";
    if (this.queueLimits.length > 0) await this.store.configureQueues(this.queueLimits, this.now());
    if ((await this.peers.look(this.now())) > 0) this.wakeUp();
    this.cleanups.push(
      this.store.subscribe((n) => {
        if (n.kind === "work") this.wakeUp();
        // Its running activities' results would be dropped: tell them through ctx.signal.
        else if (n.status === "Terminated") this.activities.cancelInstance(n.instanceId);
      }),
    );
    this.cleanups.push(registerLocalWorker(this.store, this));
    if (this.options.handleSignals !== false) this.cleanups.push(stopOnSignals(() => this.stop()));
    this.housekeeping = setInterval(() => void this.keepHouse(), Math.max(50, Math.floor(this.leaseTtlMs / 3)));
    this.housekeeping.unref();
    this.loop = this.pollLoop();
  }

  async stop(): Promise<void> {
    if (this.state === "idle") this.state = "stopped";
    if (this.state !== "running") return this.loop?.then(() => undefined);
    this.state = "stopping";
    this.wakeUp();
    await this.loop;
    await this.entityWork.idle();
    clearInterval(this.housekeeping);
    for (const cleanup of this.cleanups) cleanup();
    await this.activities.stop(this.shutdownTimeoutMs);
    await this.commits.idle();
    await this.activities.idle();
    await this.store.releaseLeases(this.id);
    this.runners.clear();
    this.state = "stopped";
  }

  // RunnerHost ---------------------------------------------------------------------------

  now(): number {
    return this.clock();
  }

  leaseExpiry(now: number): number {
    return now + this.leaseTtlMs;
  }

  findOrchestration(name: string): AnyOrchestration | undefined {
    return this.definitions.orchestration(name);
  }

  findEntity(name: string): AnyEntity | undefined {
    return this.entityWork.find(name);
  }

  async commit(commit: EpisodeCommit): Promise<EpisodeCommitResult> {
    const outcome = await this.commits.submit(commit);
    if (outcome.ok) this.episodesCommitted++;
    else if (outcome.reason === "lease-lost") this.episodesRefused++;
    return outcome;
  }

  stats(): WorkerStats {
    return {
      episodesCommitted: this.episodesCommitted,
      episodesRefused: this.episodesRefused,
      leasingOnPoll: this.peers.reserving(this.now()),
      activitiesRunning: this.activities.count,
      instancesInMemory: this.runners.size,
    };
  }

  servesQueue(queue: string): boolean {
    return this.queues.includes(queue);
  }

  reserveActivitySlot(): boolean {
    return this.state === "running" && this.slots.reserve();
  }

  slotsSettled(): Promise<void> | undefined {
    return this.slots.settled();
  }

  releaseActivitySlot(): void {
    this.slots.release();
  }

  runLocalActivity(
    runner: InstanceRunner,
    taskId: number,
    task: { step: number; attempt: number; name: string; input: unknown; queue: string },
  ): void {
    const full: ActivityTask = {
      ...task,
      id: taskId,
      instanceId: runner.instanceId,
      executionId: runner.executionId,
      leaseToken: 1,
    };
    this.activities.run(full, runner);
  }

  forget(runner: InstanceRunner): void {
    if (this.runners.get(runner.instanceId) === runner) this.runners.delete(runner.instanceId);
  }

  /**
   * Eager start (see InstanceRunner.startEagerly), for a client of this process on the same
   * store. Declined (undefined) unless the worker runs, knows the orchestration, serves its
   * queue and has room, and the start is plain: scheduled starts and children go the usual way.
   */
  startEagerly(request: NewInstance): Promise<Error | undefined> | undefined {
    if (this.state !== "running" || request.startAt !== undefined || request.parent) return undefined;
    if (!this.definitions.orchestration(request.name) || !this.servesQueue(request.queue ?? DEFAULT_QUEUE))
      return undefined;
    if (this.runners.has(request.instanceId) || this.advancing() >= this.maxOrchestrations) return undefined;
    const ready = { instanceId: request.instanceId, name: request.name, executionId: request.executionId };
    const runner = new InstanceRunner(this, request.instanceId, request.name, {
      ...ready,
      leaseToken: 0,
      historyLength: 0,
      messages: [],
    });
    this.runners.set(request.instanceId, runner);
    return runner.startEagerly(request);
  }

  competitorSeen(): void {
    this.peers.seen(this.now());
  }

  abandon(instanceId: string): void {
    this.abandoned.add(instanceId);
  }

  // Internals -----------------------------------------------------------------------------

  private async pollLoop(): Promise<void> {
    while (this.state === "running") {
      let found = false;
      this.wakeRequested = false;
      try {
        found = await this.pollOnce();
      } catch (error) {
        this.logger.error("[perdure] polling the store failed; retrying", error);
      }
      if (!found && this.state === "running") await this.waitForWork();
    }
  }

  /** Starts episodes for ready instances and claims orphaned activity tasks. True if it found work. */
  private async pollOnce(): Promise<boolean> {
    const now = this.now();
    const busy: string[] = [];
    for (const runner of this.runners.values()) {
      if (runner.takesInbox) runner.missedPoll = true;
      if (runner.takesInbox || runner.backoffUntil > now) busy.push(runner.instanceId);
    }
    const advancing = this.advancing();
    const reserving = this.peers.reserving(now);
    // At the limit, a busy runner's next idle moment wakes the loop.
    if (advancing >= this.maxOrchestrations)
      for (const runner of this.runners.values()) runner.heldRoom ||= runner.isBusy;
    // Workers that compete take small bites, so that a burst is shared out among them rather
    // than taken whole by the first to poll (a full bite makes the loop poll again at once).
    const room = Math.min(reserving ? COMPETING_POLL_SIZE : 100, this.maxOrchestrations - advancing);
    const reserveUntil = reserving ? this.leaseExpiry(now) : undefined;
    const ready =
      room > 0 ? await this.store.findReadyInstances(this.id, now, room, busy, [...this.queues], reserveUntil) : [];
    // The claim holds the free slots while it is awaited, so the ready instances' episodes
    // start after it, when their fast path can take a slot.
    let starved = false;
    let tasks: ActivityTask[] = [];
    try {
      tasks = await this.slots.claimFree(async (free) => {
        const claimed = await this.store.claimActivityTasks(this.id, now, this.leaseExpiry(now), free, [
          ...this.queues,
        ]);
        starved = claimed.length >= free;
        return claimed;
      });
    } finally {
      this.startEpisodes(ready);
    }
    for (const task of tasks) this.activities.run(task);
    const entities = await this.entityWork.poll(now);
    // Look again at once only when a limit cut this poll short; anything that arrives later
    // wakes the loop (notifications, a runner that missed a poll, a freed activity slot).
    return (room > 0 && ready.length >= room) || starved || entities;
  }

  /** Instances with an episode queued or running. */
  private advancing(): number {
    let busy = 0;
    for (const runner of this.runners.values()) if (runner.isBusy) busy++;
    return busy;
  }

  private startEpisodes(ready: ReadyInstance[]): void {
    for (const instance of ready) {
      let runner = this.runners.get(instance.instanceId);
      // A runner left from an older lease of ours would only have its commits refused.
      const stale = instance.leased === true && runner?.leaseToken !== instance.leaseToken;
      if (!runner || runner.executionId !== instance.executionId || stale) {
        runner = new InstanceRunner(this, instance.instanceId, instance.name, instance);
        this.runners.set(instance.instanceId, runner);
      }
      runner
        .processInbox(instance.messages)
        .catch((error) => this.logger.error(`[perdure] instance ${instance.instanceId} failed an episode`, error));
    }
  }

  wakeUp(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  /**
   * True when nothing runs or waits to run here: no episode, activity, commit or entity batch
   * in progress, and the loop asleep after a poll that found nothing (`wake` is set only then).
   */
  async quiescent(): Promise<boolean> {
    await Promise.all([this.commits.idle(), this.activities.idle(), this.entityWork.idle()]);
    const asleep = this.wake !== undefined && !this.wakeRequested;
    return asleep && this.advancing() === 0 && this.activities.count === 0;
  }

  private async waitForWork(): Promise<void> {
    const now = this.now();
    const due = await this.store.nextDueTime(now, this.id, [...this.queues]).catch(() => undefined);
    const wait = Math.max(0, Math.min(due === undefined ? Number.POSITIVE_INFINITY : due - now, this.pollIntervalMs));
    if (this.wakeRequested) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }

  /** Renews leases, frees dead local workers' leases, and evicts idle instances from memory. */
  private async keepHouse(): Promise<void> {
    if (this.state !== "running") return;
    try {
      const now = this.now();
      await this.abandoned.release();
      await this.store.renewLeases(this.id, this.leaseExpiry(now));
      if ((await this.peers.look(now)) > 0) this.wakeUp();
      const idle = [...this.runners.values()].filter(
        (r) => !r.isBusy && r.localTasks.size === 0 && now - r.lastActiveAt >= this.evictIdleAfterMs,
      );
      if (idle.length > 0) {
        for (const runner of idle) this.runners.delete(runner.instanceId);
        await this.store.releaseLeases(
          this.id,
          idle.map((r) => r.instanceId),
        );
      }
    } catch (error) {
      this.logger.error("[perdure] lease housekeeping failed; retrying", error);
    }
  }
}

/** Instances a worker that competes with others reserves per poll. */
const COMPETING_POLL_SIZE = 16;

/**
 * Activities its own commits schedule that a worker keeps waiting in memory, as a multiple of
 * maxConcurrentActivities, when all its slots are busy: each would otherwise cost a claim and
 * a separate result transaction.
 */
const LOCAL_BACKLOG_FACTOR = 10;
