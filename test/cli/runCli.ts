import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: the CLI runs from its TypeScript sources there, through tsx. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DEMO_APP = fileURLToPath(new URL("../fixtures/demoApp.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `perdure <args>` as a child process (`node --import tsx src/cli/main.ts …`). */
export function spawnCli(args: string[], options: { env?: Record<string, string> } = {}): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  // The store and the key of a test are chosen by the test alone.
  delete env.PERDURE_STORE;
  delete env.PERDURE_API_KEY;
  Object.assign(env, options.env);
  return spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs `perdure <args>` to the end and returns its exit code and output. */
export function runCli(args: string[], options: { env?: Record<string, string> } = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI with `--json` and parses its stdout, which must be one JSON document. */
export async function runJson<T = unknown>(args: string[], options: { env?: Record<string, string> } = {}) {
  const result = await runCli([...args, "--json"], options);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout of perdure ${args.join(" ")} is not one JSON document:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { ...result, json };
}
