import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the example as a real child process, the way its npm script does. */
function runExample(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// The crash version (SIGKILLs while hundreds of transfers run) is test/crash/bankTransfer.test.ts.
describe("bank-transfer example", { timeout: 90_000 }, () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-bank-"));
    dirs.push(dir);
    return join(dir, "bank.db");
  }

  it("runs concurrent transfers between locked accounts and the books balance", async () => {
    const run = await runExample(["--accounts", "5", "--transfers", "60", "--opening", "300", "--db", tempDb()]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "") as {
      transfers: number;
      done: number;
      rejected: number;
      total: number;
      balances: Record<string, number>;
      problems: string[];
    };
    expect(summary.problems).toEqual([]);
    expect(summary.total).toBe(1500);
    expect(summary.done + summary.rejected).toBe(60);
    expect(summary.done).toBeGreaterThan(0);
    for (const balance of Object.values(summary.balances)) expect(balance).toBeGreaterThanOrEqual(0);
  });

  it("exits 2 on a bad flag", async () => {
    const run = await runExample(["--accounts", "1", "--db", tempDb()]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
