import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { type PostgresStore, postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { type ActivityLogLine, readActivityLog } from "./faultWorkflow.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORKER_SOURCE = fileURLToPath(new URL("./workerProcess.ts", import.meta.url));
/** Generous: the machine is shared, and the chaos test starts processes while others run. */
const READY_TIMEOUT_MS = 30_000;

/**
 * The worker script compiled once into one JavaScript file (esbuild, which tsx runs on
 * anyway), so that a new worker process starts in a fraction of what `node --import tsx`
 * takes: the chaos test starts dozens, and on two cores every start competes with the
 * workers it is testing. It lives under node_modules/.cache, from where its imports of
 * packages (pg) resolve as from the repository.
 */
/** Keeps each module's `import.meta.url` its source file's, so that the store finds its migrations. */
const sourceUrls: Plugin = {
  name: "source-urls",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, "utf8").replaceAll(
        "import.meta.url",
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: "ts",
    }));
  },
};

async function compiledWorker(): Promise<string> {
  const dir = join(REPO_ROOT, "node_modules", ".cache", "perdure-pg-faults");
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `workerProcess-${process.pid}.mjs`);
  await build({
    entryPoints: [WORKER_SOURCE],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    plugins: [sourceUrls],
    logLevel: "error",
  });
  return outfile;
}
const SCHEMA = "faults";

/** Worker settings, passed to the child as environment variables (see workerProcess.ts). */
export interface WorkerSettings {
  stepMs?: number;
  maxActivities?: number;
  leaseTtlMs?: number;
  pollMs?: number;
  appName?: string;
  stallEveryMs?: number;
  stallMs?: number;
  /** Where in each `stallEveryMs` period (on the wall clock) the freeze starts: workers out of phase by design. */
  stallPhaseMs?: number;
}

/** What a worker reports when stopped gracefully: commits the store refused it. */
export interface WorkerStats {
  staleCommits: number;
  refusedDeliveries: number;
  commitErrors: number;
  episodes: number;
}

/** A running worker process. */
export interface FaultWorker {
  readonly pid: number;
  /** Unique for this process (its PROCESS_TAG), unlike the pid, which the kernel may give to a later process. */
  readonly tag: string;
  readonly workerId: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
}

/**
 * A database of its own (created here, dropped in `dispose`), an activity log in a temp
 * folder, and the worker processes of one fault test.
 */
export class FaultLab {
  readonly dir = mkdtempSync(join(tmpdir(), "perdure-pgfaults-"));
  readonly logFile = join(this.dir, "activities.log");
  readonly schema = SCHEMA;
  private readonly children = new Set<ChildProcess>();
  private spawned = 0;
  private stores: PostgresStore[] = [];

  private constructor(
    readonly db: TestDatabase,
    private readonly workerScript: string,
  ) {}

  static async create(): Promise<FaultLab> {
    const script = await compiledWorker();
    return new FaultLab(await createTestDatabase(), script);
  }

  /** A store object of the test's own (a separate pool), closed in `dispose`. */
  async openStore(poolSize = 4): Promise<PostgresStore> {
    const store = await postgresStore({
      connectionString: this.db.url,
      schema: this.schema,
      poolSize,
      connection: { application_name: "perdure-fault-test" },
    });
    this.stores.push(store);
    return store;
  }

  /** Starts a worker process; resolves once it reports ready. */
  async spawnWorker(settings: WorkerSettings = {}): Promise<FaultWorker> {
    const tag = `w${++this.spawned}`;
    const env: NodeJS.ProcessEnv = { ...process.env, PROCESS_TAG: tag };
    const set = (name: string, value: number | string | undefined) => {
      if (value !== undefined) env[name] = String(value);
    };
    set("STEP_MS", settings.stepMs);
    set("MAX_ACTIVITIES", settings.maxActivities);
    set("LEASE_TTL_MS", settings.leaseTtlMs);
    set("POLL_MS", settings.pollMs);
    set("APP_NAME", settings.appName);
    set("STALL_EVERY_MS", settings.stallEveryMs);
    set("STALL_MS", settings.stallMs);
    set("STALL_PHASE_MS", settings.stallPhaseMs);
    const child = spawn(process.execPath, [this.workerScript, this.db.url, this.schema, this.logFile], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.add(child);
    let out = "";
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, signal) => {
        done = true;
        this.children.delete(child);
        resolve({ code, signal });
      });
    });
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
      tag,
      workerId: ready.workerId,
      exited,
      hasExited: () => done,
      output: () => out,
    };
  }

  /** SIGKILLs a worker and waits until it is reaped. */
  async kill(worker: FaultWorker): Promise<void> {
    if (!worker.hasExited()) process.kill(worker.pid, "SIGKILL");
    await worker.exited;
  }

  /** Stops a worker gracefully (SIGTERM) and returns the stats it printed. */
  async stop(worker: FaultWorker): Promise<WorkerStats> {
    if (!worker.hasExited()) process.kill(worker.pid, "SIGTERM");
    const exit = await worker.exited;
    const line = worker
      .output()
      .split("\n")
      .find((l) => l.startsWith('{"event":"stats"'));
    if (!line) throw new Error(`worker ${worker.pid} printed no stats (${JSON.stringify(exit)}):\n${worker.output()}`);
    return JSON.parse(line) as WorkerStats;
  }

  /** Instances of the schema that are Completed, counted in the database. */
  async countCompleted(): Promise<number> {
    const { rows } = await this.db.query(
      `SELECT count(*) AS n FROM "${this.schema}".instances WHERE status = 'Completed'`,
    );
    return Number(rows[0]?.n);
  }

  readLog(): ActivityLogLine[] {
    return readActivityLog(this.logFile);
  }

  /** Kills every worker still running, closes the test's stores, drops the database, removes the folder. */
  async dispose(): Promise<void> {
    const waits = [...this.children].map((child) => {
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      return gone;
    });
    await Promise.all(waits);
    for (const store of this.stores.splice(0)) await store.close().catch(() => undefined);
    await this.db.drop();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.workerScript, { force: true });
  }
}
