import { orchestration } from "perdure";
import { type MeterSummary, meter } from "./meter.js";

export interface Report {
  meters: Record<string, MeterSummary>;
  readings: number;
  sum: number;
}

/**
 * Reads every meter's summary, in parallel. Its calls are queued behind the readings sent
 * before it started, so each summary includes all of them.
 */
export const report = orchestration("report", async (ctx, keys: string[]): Promise<Report> => {
  const summaries = await ctx.all(keys.map((key) => ctx.callEntity(meter, key, "summary")));
  const meters = Object.fromEntries(keys.map((key, i) => [key, summaries[i] as MeterSummary]));
  return {
    meters,
    readings: summaries.reduce((n, s) => n + s.count, 0),
    sum: summaries.reduce((n, s) => n + s.sum, 0),
  };
});
