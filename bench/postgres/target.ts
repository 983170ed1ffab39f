import { type ChildProcess, fork } from "node:child_process";
import type { Driven } from "./drive.js";

/** Perdure's counts: store commits by the client and the workers, and stale episode commits. */
export interface EngineStats {
  client: number;
  worker: number;
  stale: number;
}

/** One engine set up on the bench database, ready to be driven. */
export interface Target {
  /** Runs workflows: `inFlight` callers until `total` have completed. */
  drive(inFlight: number, total: number, firstInput: number): Promise<Driven>;
  /** The engine's own counts so far, where it keeps them. */
  engineStats?(): Promise<EngineStats>;
  /** CPU time (ms) of the engine's processes other than this one, so far. */
  childCpuMs?(): Promise<number>;
  close(): Promise<void>;
}

/** A forked child process that speaks request/answer over IPC, one request at a time. */
export class IpcChild {
  private readonly exited: Promise<void>;
  private exitInfo: string | undefined;

  private constructor(readonly process: ChildProcess) {
    this.exited = new Promise((resolve) => {
      process.once("exit", (code, signal) => {
        this.exitInfo = `exited with ${signal ?? code}`;
        resolve();
      });
    });
  }

  /** Forks `script` and waits for its first message, which must say `ready`. */
  static async start(script: string, args: string[], execArgv = process.execArgv): Promise<IpcChild> {
    const child = new IpcChild(fork(script, args, { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    const first = await child.next();
    if (!first["ready"]) throw new Error(`${script} did not report ready: ${JSON.stringify(first)}`);
    return child;
  }

  /** Sends a message and resolves with the child's next message. */
  async request(message: object): Promise<Record<string, unknown>> {
    const answer = this.next();
    this.process.send(message);
    const reply = await answer;
    if (typeof reply["error"] === "string") throw new Error(reply["error"]);
    return reply;
  }

  /** Asks the child to stop and waits for it to exit (killing it after `graceMs`). */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exitInfo === undefined && this.process.connected) this.process.send({ cmd: "stop" });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        this.process.off("exit", onExit);
        resolve(message);
      };
      const onExit = () => {
        this.process.off("message", onMessage);
        reject(new Error(`child ${this.process.pid} ${this.exitInfo ?? "exited"} before answering`));
      };
      this.process.once("message", onMessage);
      this.process.once("exit", onExit);
    });
  }
}
