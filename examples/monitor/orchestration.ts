import { orchestration } from "perdure";
import { checkJobStatus } from "./activities.js";
import type { JobStatus } from "./jobFile.js";

/** One monitor per store file: a run that finds this instance still active resumes it. */
export const MONITOR_INSTANCE_ID = "job-monitor";

export interface MonitorInput {
  jobFile: string;
  /** Time between two checks, in milliseconds. */
  pollIntervalMs: number;
  /** Give up this long after the monitor started, in milliseconds. */
  expiryMs: number;
}

export interface MonitorResult {
  /** "finished": the job reached a final status; "expired": it was still running at the expiry. */
  outcome: "finished" | "expired";
  /** The last status seen. */
  jobStatus: JobStatus;
  checks: number;
  /** When the monitor gives up, from the orchestration's clock (ISO 8601). */
  expiresAt: string;
}

/**
 * The monitor pattern (Durable Functions' "monitor"): check, and if the condition does not
 * hold yet, sleep on a durable timer and check again, until it holds or the expiry passes.
 * The expiry comes from `ctx.now()`, the recorded clock, so every replay computes the same
 * one; and the wait between checks is a row in the store, not a sleeping process, so the
 * worker may restart during it.
 */
export const monitorJob = orchestration("monitorJob", async (ctx, input: MonitorInput): Promise<MonitorResult> => {
  const expiresAt = ctx.now().getTime() + input.expiryMs;
  const result = (outcome: MonitorResult["outcome"], jobStatus: JobStatus, checks: number): MonitorResult => ({
    outcome,
    jobStatus,
    checks,
    expiresAt: new Date(expiresAt).toISOString(),
  });

  for (let checks = 1; ; checks++) {
    const jobStatus = await ctx.callActivity(checkJobStatus, input.jobFile);
    ctx.setCustomStatus({ checks, jobStatus });
    if (jobStatus !== "Running") return result("finished", jobStatus, checks);
    if (ctx.now().getTime() >= expiresAt) return result("expired", jobStatus, checks);
    // The last wait ends at the expiry itself, for one last check there.
    await ctx.sleepUntil(Math.min(ctx.now().getTime() + input.pollIntervalMs, expiresAt));
  }
});
