import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type SqliteStore, sqliteStore } from "../../src/store/sqlite/index.js";
import type { LogLine } from "./crashWorkflow.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORKER_SCRIPT = fileURLToPath(new URL("./workerProcess.ts", import.meta.url));
/** Generous: tsx compiles the engine on first start, and the machine is shared. */
const READY_TIMEOUT_MS = 20_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running worker process of the crash tests. */
export interface WorkerChild {
  readonly pid: number;
  /** The engine's worker id (`host:pid:random`), which owns leases in the store. */
  readonly workerId: string;
  /** Resolves when the process has exited and been reaped. */
  readonly exited: Promise<Exit>;
  hasExited(): boolean;
  /** What the process wrote, for failure messages. */
  output(): string;
}

export interface SpawnOptions {
  /** Instances to start, as id → input. */
  start?: Record<string, number>;
  stepMs?: number;
  leaseTtlMs?: number;
  shutdownTimeoutMs?: number;
}

/**
 * A temp folder with a store file and an activity log, and the worker processes run on
 * them. `dispose` SIGKILLs whatever still runs, closes the test's store and removes the folder.
 */
export class CrashLab {
  readonly dir = mkdtempSync(join(tmpdir(), "perdure-crash-"));
  readonly dbFile = join(this.dir, "store.db");
  readonly logFile = join(this.dir, "activities.log");
  private readonly children = new Set<{ process: ChildProcess; exited: Promise<Exit> }>();
  private store: SqliteStore | undefined;

  /** The test's own connection to the store file (open it once a worker has created it). */
  openStore(): SqliteStore {
    this.store ??= sqliteStore(this.dbFile, { durability: "normal" });
    return this.store;
  }

  /** Starts a worker process and resolves once it reports ready. */
  async spawnWorker(options: SpawnOptions = {}): Promise<WorkerChild> {
    const env: NodeJS.ProcessEnv = { ...process.env, STEP_MS: String(options.stepMs ?? 150) };
    if (options.start) {
      env.START = Object.entries(options.start)
        .map(([id, input]) => `${id}=${input}`)
        .join(",");
    }
    if (options.leaseTtlMs !== undefined) env.LEASE_TTL_MS = String(options.leaseTtlMs);
    if (options.shutdownTimeoutMs !== undefined) env.SHUTDOWN_TIMEOUT_MS = String(options.shutdownTimeoutMs);
    const child = spawn(process.execPath, ["--import", "tsx", WORKER_SCRIPT, this.dbFile, this.logFile], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let exit: Exit | undefined;
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        resolve(exit);
      });
    });
    const entry = { process: child, exited };
    this.children.add(entry);
    void exited.then(() => this.children.delete(entry));
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });

    const ready = await new Promise<{ workerId: string }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker not ready after ${READY_TIMEOUT_MS} ms:\n${out}`)),
        READY_TIMEOUT_MS,
      );
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split("\n").find((l) => l.startsWith('{"event":"ready"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { workerId: string });
        }
      });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`worker exited before ready (${JSON.stringify(e)}):\n${out}`));
      });
    });
    return {
      pid: child.pid as number,
      workerId: ready.workerId,
      exited,
      hasExited: () => exit !== undefined,
      output: () => out,
    };
  }

  /** SIGKILLs a worker and waits until it is reaped (a zombie would still look alive to the engine). */
  async kill(child: WorkerChild): Promise<Exit> {
    if (!child.hasExited()) process.kill(child.pid, "SIGKILL");
    return child.exited;
  }

  /** The activity log's lines so far. */
  readLog(): LogLine[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as LogLine);
  }

  /** Polls the log until `predicate` holds; fails if `child` dies first or after `timeoutMs`. */
  async waitForLog(
    predicate: (lines: LogLine[]) => boolean,
    child: WorkerChild,
    timeoutMs = 15_000,
  ): Promise<LogLine[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.readLog();
      if (predicate(lines)) return lines;
      if (child.hasExited()) throw new Error(`worker ${child.pid} exited while the test waited:\n${child.output()}`);
      if (Date.now() > deadline) throw new Error(`log condition not met after ${timeoutMs} ms:\n${child.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Kills every process still running, then removes the folder. Safe to call after a failure. */
  async dispose(): Promise<void> {
    for (const { process: child } of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await Promise.all([...this.children].map((c) => c.exited));
    await this.store?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
