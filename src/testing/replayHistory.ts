import { checkInstanceId } from "../client/instanceId.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { InvalidArgumentError, NonDeterminismError } from "../errors/errors.js";
import type { FailureDetails } from "../errors/failure.js";
import { describeEvent, type HistoryEvent, isDurableCallEvent } from "../history/events.js";
import { OrchestrationExecutor } from "../orchestration/executor.js";
import { type Logger, silentLogger } from "../orchestration/logger.js";
import { toSavedHistory } from "./savedHistory.js";

export interface ReplayOptions {
  /**
   * The id of the instance the history belongs to. Replay needs the real one: the values of
   * `ctx.newGuid()` and `ctx.random()`, and default sub-orchestration ids, derive from it.
   */
  instanceId: string;
  /** Receives what `ctx.log` writes after the recorded history (replayed calls are silent). */
  logger?: Logger;
}

/** How the end of an execution is recorded in its history. */
export type RecordedEnd = "Completed" | "Failed" | "Terminated";

/** Where the orchestration's current code stands after replaying a recorded history. */
export interface ReplayResult<O = unknown> {
  /** "Running" when the code waits for more than the history holds. */
  status: "Running" | "Completed" | "Failed" | "ContinuedAsNew";
  /** The code's return value, when it completed. */
  output?: O;
  /** Why the code failed, when it did (an uncaught error, or an await that is not durable). */
  failure?: FailureDetails;
  /** How the history itself ends the execution, if it does. */
  recordedEnd?: RecordedEnd;
  /**
   * The durable calls the code makes beyond the history, in order: what a worker would
   * schedule next (`activity "charge" scheduled at step 3`). Empty while it only waits.
   */
  nextCalls: string[];
}

/**
 * Replays a recorded history against the orchestration's current code, as a worker does
 * after a restart, and reports where the code stands. Throws `NonDeterminismError` (naming
 * the step, what the code did and what the history holds) when the code makes other durable
 * calls than the history records, or goes on making calls after the recorded end.
 *
 * `history` is what `client.getHistory(id)` returns, or what `perdure history ID --json`
 * printed (times as ISO strings). Activities are not run: their results come from history.
 */
export async function replayHistory<I, O>(
  definition: OrchestrationDefinition<I, O>,
  history: readonly unknown[],
  options: ReplayOptions,
): Promise<ReplayResult<O>> {
  if ((definition as { kind?: unknown } | null)?.kind !== "orchestration") {
    throw new InvalidArgumentError("replayHistory needs an orchestration definition, made with orchestration().");
  }
  const instanceId = checkInstanceId(options?.instanceId);
  const events = toSavedHistory(history);
  const started = events.find((e) => e.type === "ExecutionStarted");
  if (!started) {
    throw new InvalidArgumentError(
      "The history has no ExecutionStarted event: the instance has not run its first episode yet, so there is nothing to replay.",
      { instanceId },
    );
  }
  if (started.name !== definition.name) {
    throw new InvalidArgumentError(
      `The history is of orchestration "${started.name}", not "${definition.name}"; replay it with the definition named "${started.name}".`,
      { instanceId },
    );
  }
  const executor = new OrchestrationExecutor(
    definition as unknown as OrchestrationDefinition<unknown, unknown>,
    instanceId,
    options.logger ?? silentLogger,
  );
  await executor.replay(events);
  // An episode with nothing new: the code's state after the history, and the calls it adds.
  const last = events[events.length - 1] as HistoryEvent;
  const episode = await executor.runEpisode([], last.timestamp);
  const nextCalls = episode.newEvents.filter(isDurableCallEvent);
  const recordedEnd = recordedEndOf(events);
  if ((recordedEnd === "Completed" || recordedEnd === "Failed") && nextCalls[0]) {
    const call = nextCalls[0];
    throw new NonDeterminismError(
      instanceId,
      call.step,
      `made a durable call after the recorded end (${describeEvent(call)})`,
      `the execution ${recordedEnd}`,
    );
  }
  const result: ReplayResult<O> = { status: episode.outcome.status, nextCalls: nextCalls.map(describeEvent) };
  if (episode.outcome.status === "Completed") result.output = episode.outcome.output as O;
  if (episode.outcome.status === "Failed") result.failure = episode.outcome.failure;
  if (recordedEnd) result.recordedEnd = recordedEnd;
  return result;
}

function recordedEndOf(events: readonly HistoryEvent[]): RecordedEnd | undefined {
  for (const event of events) {
    if (event.type === "ExecutionCompleted") return "Completed";
    if (event.type === "ExecutionFailed") return "Failed";
    if (event.type === "ExecutionTerminated") return "Terminated";
  }
  return undefined;
}
