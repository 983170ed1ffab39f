import { randomUUID } from "node:crypto";
import { toEntityMessages } from "../entities/entityActions.js";
import { toFailureDetails } from "../errors/failure.js";
import type { HistoryEvent, ParentLink } from "../history/events.js";
import type { EpisodeResult } from "../orchestration/episode.js";
import type { EpisodeCommit, NewInstance } from "../store/store.js";
import type { RunnerHost } from "./instanceRunner.js";

/** What an episode's commit says of the runner that ran it: the lease and history it builds on. */
export interface CommittingRunner {
  readonly instanceId: string;
  readonly executionId: string;
  readonly leaseToken: number;
  readonly historyLength: number;
  readonly owned: boolean;
  /** The instance the commit creates (an eager start), if any. */
  readonly creating: NewInstance | undefined;
  /** The orchestration's parent, carried over by continue-as-new. */
  readonly parent: ParentLink | undefined;
}

type CommitHost = Pick<RunnerHost, "workerId" | "servesQueue" | "reserveActivitySlot" | "leaseExpiry">;

/**
 * The commit of an episode: its history, the messages and activity results it consumed, what
 * the orchestration does next (activities, on the fast path where this worker can run them;
 * timers, sub-orchestrations, entity messages) and its status.
 */
export function episodeCommit(
  runner: CommittingRunner,
  host: CommitHost,
  result: EpisodeResult,
  { consumed, completedTaskIds, now }: { consumed: number[]; completedTaskIds: number[]; now: number },
): EpisodeCommit {
  const { outcome } = result;
  const commit: EpisodeCommit = {
    instanceId: runner.instanceId,
    executionId: runner.executionId,
    workerId: host.workerId,
    leaseToken: runner.leaseToken,
    acquireLease: !runner.owned,
    historyLength: runner.historyLength,
    newEvents: result.newEvents,
    consumedMessageIds: consumed,
    newTasks: result.activities.map((a) => ({
      step: a.step,
      attempt: a.attempt,
      name: a.name,
      input: a.input,
      queue: a.queue,
      // The fast path: run it here, in the commit of its result, if this worker serves its queue.
      leaseToCommitter: host.servesQueue(a.queue) && host.reserveActivitySlot(),
    })),
    newTimers: result.timers.map((t) => ({ step: t.step, fireAt: t.fireAt })),
    cancelledTimers: result.cancelledTimers,
    newInstances: result.subOrchestrations.map((sub) => ({
      instanceId: sub.instanceId,
      name: sub.name,
      executionId: randomUUID(),
      input: sub.input,
      createdAt: now,
      // As in Durable Functions, a finished instance under the child's id is replaced: a
      // retry, a parent that continued as new or was restarted all reuse the default id.
      replaceIfFinished: true,
      parent: { instanceId: runner.instanceId, executionId: runner.executionId, step: sub.step, attempt: sub.attempt },
      queue: sub.queue,
    })),
    status: outcome.status,
    releaseLease: false,
    now,
    leaseExpiresAt: host.leaseExpiry(now),
  };
  if (completedTaskIds.length > 0) commit.completedTaskIds = completedTaskIds;
  if (runner.creating) commit.create = runner.creating;
  if (result.entityActions && result.entityActions.length > 0) {
    const sender = { instanceId: runner.instanceId, executionId: runner.executionId };
    commit.entityMessages = toEntityMessages(result.entityActions, sender, now);
  }
  if (outcome.status === "Completed") commit.output = outcome.output;
  if (outcome.status === "Failed") commit.failure = outcome.failure;
  if (outcome.status === "ContinuedAsNew") {
    commit.continueAsNew = {
      executionId: randomUUID(),
      input: outcome.input,
      carryOverEvents: outcome.carryOverEvents,
      preserveUnprocessedEvents: outcome.preserveUnprocessedEvents,
    };
    const parent = runner.parent;
    if (parent) commit.continueAsNew.parent = parent;
  }
  if (result.customStatusChanged) commit.customStatus = { value: result.customStatus };
  return commit;
}

/** An episode that records the instance as Failed, for errors that stop it from running at all. */
export function failedEpisode(error: unknown, now: number): EpisodeResult {
  const failure = toFailureDetails(error);
  const newEvents: HistoryEvent[] = [
    { type: "OrchestratorStarted", timestamp: now },
    { type: "ExecutionFailed", timestamp: now, failure },
  ];
  return {
    newEvents,
    activities: [],
    timers: [],
    subOrchestrations: [],
    cancelledTimers: [],
    outcome: { status: "Failed", failure },
    customStatus: undefined,
    customStatusChanged: false,
  };
}
