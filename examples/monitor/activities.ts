import { activity } from "perdure";
import { type JobStatus, readJobState } from "./jobFile.js";

/**
 * Asks the job for its status. Reading state is the kind of I/O that belongs in an
 * activity: the orchestration sees the answer as recorded, the same on every replay.
 */
export const checkJobStatus = activity(
  "checkJobStatus",
  async (jobFile: string): Promise<JobStatus> => (await readJobState(jobFile)).status,
);
