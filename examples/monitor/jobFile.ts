import { readFile, rename, writeFile } from "node:fs/promises";

/** The states of the watched job. Running is the only one that is not final. */
export type JobStatus = "Running" | "Succeeded" | "Failed";

/** What the job's state file holds. */
export interface JobState {
  status: JobStatus;
  updatedAt: string;
}

/** The state file of the demo job, beside the store file. */
export function jobFileFor(storeFile: string): string {
  return `${storeFile}-job.json`;
}

/** Reads the job's state; a missing file reads as a job that has not reported yet (Running). */
export async function readJobState(file: string): Promise<JobState> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as JobState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { status: "Running", updatedAt: "" };
    throw error;
  }
}

/** Writes the job's state atomically (write, then rename), so a reader never sees half a file. */
export async function writeJobState(file: string, status: JobStatus): Promise<void> {
  const state: JobState = { status, updatedAt: new Date().toISOString() };
  await writeFile(`${file}.tmp`, JSON.stringify(state));
  await rename(`${file}.tmp`, file);
}
