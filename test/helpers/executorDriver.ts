import { toFailureDetails } from "../../src/errors/failure.js";
import type { IncomingEvent } from "../../src/history/events.js";
import type { FailureDetails, HistoryEvent, Logger, OrchestrationDefinition } from "../../src/index.js";
import { silentLogger } from "../../src/index.js";
import type { EpisodeOutcome } from "../../src/orchestration/episode.js";
import { OrchestrationExecutor } from "../../src/orchestration/executor.js";

/** Stand-ins for activities, by name: return a result or throw. `attempt` starts at 1. */
export type FakeActivities = Record<string, (input: unknown, attempt: number) => unknown>;

export interface DriveOptions {
  instanceId?: string;
  executionId?: string;
  input?: unknown;
  /** Time of the first episode; each later episode is one second on (or at its timer). */
  startAt?: number;
  activities?: FakeActivities;
  logger?: Logger;
  /** Stop after this many episodes, leaving the instance unfinished (default: run to the end). */
  episodes?: number;
}

export interface Drive {
  history: HistoryEvent[];
  outcome: EpisodeOutcome;
  executor: OrchestrationExecutor;
  /** The time of each episode, in order: what `ctx.now()` should have returned in it. */
  episodeTimes: number[];
}

/**
 * Runs an orchestration through the replay executor alone, as a worker would, with fake
 * activities run in-line: no store, no worker. Returns the history it recorded.
 */
export async function drive(
  definition: OrchestrationDefinition<never, unknown>,
  options: DriveOptions = {},
): Promise<Drive> {
  const instanceId = options.instanceId ?? "driven";
  const executor = new OrchestrationExecutor(
    definition as unknown as OrchestrationDefinition<unknown, unknown>,
    instanceId,
    options.logger ?? silentLogger,
  );
  let now = options.startAt ?? Date.UTC(2030, 0, 1);
  let incoming: IncomingEvent[] = [
    {
      type: "ExecutionStarted",
      timestamp: now,
      name: definition.name,
      input: options.input,
      executionId: options.executionId ?? "execution-1",
    },
  ];
  const history: HistoryEvent[] = [];
  const episodeTimes: number[] = [];
  for (let episode = 0; ; episode++) {
    episodeTimes.push(now);
    const result = await executor.runEpisode(incoming, now);
    history.push(...result.newEvents);
    const done = result.outcome.status !== "Running";
    if (done || (options.episodes !== undefined && episode + 1 >= options.episodes)) {
      return { history, outcome: result.outcome, executor, episodeTimes };
    }
    const next = now + 1_000;
    incoming = [];
    for (const call of result.activities) {
      const fake = options.activities?.[call.name];
      try {
        if (!fake) throw new Error(`no fake for activity "${call.name}"`);
        const value = fake(call.input, call.attempt);
        incoming.push({
          type: "TaskCompleted",
          timestamp: next,
          step: call.step,
          attempt: call.attempt,
          result: value,
        });
      } catch (error) {
        const failure: FailureDetails = toFailureDetails(error);
        incoming.push({ type: "TaskFailed", timestamp: next, step: call.step, attempt: call.attempt, failure });
      }
    }
    let at = next;
    for (const timer of result.timers) {
      at = Math.max(at, timer.fireAt);
      incoming.push({ type: "TimerFired", timestamp: timer.fireAt, step: timer.step, fireAt: timer.fireAt });
    }
    if (incoming.length === 0) throw new Error("drive: the orchestration waits on nothing the driver can deliver");
    now = at;
  }
}

/** A fresh executor that has replayed `history`, as a worker does after a restart. */
export async function replayed(
  definition: OrchestrationDefinition<never, unknown>,
  history: readonly HistoryEvent[],
  options: { instanceId?: string; logger?: Logger } = {},
): Promise<OrchestrationExecutor> {
  const executor = new OrchestrationExecutor(
    definition as unknown as OrchestrationDefinition<unknown, unknown>,
    options.instanceId ?? "driven",
    options.logger ?? silentLogger,
  );
  await executor.replay(history);
  return executor;
}
