import { orchestration } from "perdure";
import { cleanUp } from "./activities.js";

/** One cleanup per store file: a run that finds this instance still active resumes it. */
export const CLEANUP_INSTANCE_ID = "periodic-cleanup";

/** The input of each execution: everything the next iteration needs, and nothing more. */
export interface CleanupState {
  dir: string;
  batch: number;
  intervalMs: number;
  /** Stop after this many iterations (a real eternal orchestration has no such limit). */
  iterations: number;
  /** 1 for the first execution, 2 after the first continue-as-new, … */
  iteration: number;
  removedSoFar: number;
}

/** The custom status each iteration publishes. */
export interface CleanupStatus {
  iteration: number;
  removed: number;
  removedSoFar: number;
  remaining: number;
}

export interface CleanupSummary {
  iterations: number;
  removed: number;
  remaining: number;
}

/**
 * The eternal orchestration (Durable Functions' "periodic cleanup"): clean up, sleep, then
 * continue as new with the next iteration's state. Each iteration starts a fresh history,
 * so the instance can run forever without its history (and its replay cost) growing; the
 * state that must survive is carried in the input.
 *
 * Resolves with the summary only in the last iteration; the others end by continuing as
 * new, which discards what the function returns.
 */
export const periodicCleanup = orchestration(
  "periodicCleanup",
  async (ctx, state: CleanupState): Promise<CleanupSummary | undefined> => {
    const { removed, remaining } = await ctx.callActivity(cleanUp, { dir: state.dir, batch: state.batch });
    const removedSoFar = state.removedSoFar + removed;
    const status: CleanupStatus = { iteration: state.iteration, removed, removedSoFar, remaining };
    ctx.setCustomStatus(status);
    if (state.iteration >= state.iterations) {
      return { iterations: state.iteration, removed: removedSoFar, remaining };
    }
    await ctx.sleep(state.intervalMs);
    ctx.continueAsNew({ ...state, iteration: state.iteration + 1, removedSoFar });
    return undefined;
  },
);
