import type { Command } from "commander";
import { type Client, createClient } from "../client/client.js";
import { NonDeterminismError, PerdureError } from "../errors/errors.js";
import type { HistoryEvent } from "../history/events.js";
import type { RuntimeStatus } from "../store/store.js";
import { replayHistory } from "../testing/replayHistory.js";
import { toSavedHistory } from "../testing/savedHistory.js";
import { type AppModule, loadApp } from "./appModule.js";
import { parseJsonArgument, parsePositiveInt, parseStatuses } from "./arguments.js";
import { CliError, EXIT_FAILED } from "./cliError.js";
import { CommandContext } from "./context.js";
import { type Paint, table } from "./format.js";

interface ReplayFlags {
  app: string;
  status: string;
  name?: string;
  limit: string;
  history?: string;
}

/** What replaying one stored instance against the app's code found. */
interface InstanceReplay {
  instanceId: string;
  name?: string;
  runtimeStatus?: RuntimeStatus;
  /** ok: the code agrees with the history; the others would break the instance if deployed. */
  verdict: "ok" | "diverged" | "unknown-orchestration" | "not-found" | "error";
  /** What the code does next (ok), or what went wrong. */
  detail: string;
  step?: number;
}

/**
 * Adds `replay`: replays stored instances' histories against the app module's current code,
 * so that a change that would break running instances is found before it is deployed.
 */
export function addReplayCommand(program: Command): void {
  program
    .command("replay")
    .description("replay stored histories against the app's code: finds changes that would break running instances")
    .argument("[ids...]", "instance ids (default: the instances in --status)")
    .requiredOption("--app <module>", "the app module with the new code")
    .option("--status <statuses>", "without ids: the instances in these statuses", "Running,Suspended")
    .option("--name <name>", "without ids: only instances of this orchestration")
    .option("--limit <n>", "without ids: at most this many instances", "1000")
    .option(
      "--history <file>",
      "replay this saved history (perdure history ID --json) as the one ID given, not the store's",
    )
    .action(async (ids: string[], options: ReplayFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const statuses = parseStatuses(options.status);
      const limit = parsePositiveInt(options.limit, "--limit");
      const app = await loadApp(options.app);
      const report = (results: InstanceReplay[]): void => {
        const broken = results.filter((r) => r.verdict !== "ok").length;
        ctx.output.result({ replayed: results.length, broken, instances: results }, () =>
          formatReplays(results, broken, ctx.output.paint),
        );
        if (broken > 0) process.exitCode = EXIT_FAILED;
      };
      if (options.history !== undefined) {
        const [instanceId] = ids;
        if (instanceId === undefined || ids.length > 1) {
          throw new CliError(
            "USAGE",
            "--history replays one saved history: give the id of the instance it belongs to, e.g. perdure replay order-1 --history order-1.json --app ./app.js",
          );
        }
        report([await replaySaved(app, instanceId, parseJsonArgument(`@${options.history}`, "--history"))]);
        return;
      }
      const store = await ctx.resolveStore(app.store, { mustExist: true });
      try {
        const client = createClient({ store });
        const targets = ids.length > 0 ? ids : await instanceIds(client, statuses, options.name, limit);
        const results: InstanceReplay[] = [];
        for (const id of targets) results.push(await replayInstance(client, app, id));
        report(results);
      } finally {
        await store.close();
      }
    });
}

/** A saved history, checked first: a file that is not a history is a usage error, not a verdict. */
async function replaySaved(app: AppModule, instanceId: string, saved: unknown): Promise<InstanceReplay> {
  const history = toSavedHistory(saved as unknown[]);
  const started = history.find((e) => e.type === "ExecutionStarted");
  if (!started) {
    throw new CliError(
      "USAGE",
      "--history holds no ExecutionStarted event: it is not the history of a started instance.",
    );
  }
  return replayAgainst(app, { instanceId, name: started.name }, history);
}

async function instanceIds(
  client: Client,
  runtimeStatus: RuntimeStatus[],
  name: string | undefined,
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.list({
      runtimeStatus,
      ...(name !== undefined ? { name } : {}),
      pageSize: Math.min(1000, limit - ids.length),
      ...(token ? { continuationToken: token } : {}),
    });
    ids.push(...page.instances.map((s) => s.instanceId));
    token = page.continuationToken;
  } while (token && ids.length < limit);
  return ids;
}

async function replayInstance(client: Client, app: AppModule, instanceId: string): Promise<InstanceReplay> {
  const status = await client.getStatus(instanceId);
  if (!status) return { instanceId, verdict: "not-found", detail: "no such instance" };
  const found = { instanceId, name: status.name, runtimeStatus: status.runtimeStatus };
  const history = await client.getHistory(instanceId);
  if (!history.some((e) => e.type === "ExecutionStarted")) {
    return { ...found, verdict: "ok", detail: "not started yet: nothing to replay" };
  }
  return replayAgainst(app, found, history);
}

/** Replays one instance's history against the app's definition of its orchestration. */
async function replayAgainst(
  app: AppModule,
  found: Pick<InstanceReplay, "instanceId" | "name" | "runtimeStatus">,
  history: HistoryEvent[],
): Promise<InstanceReplay> {
  const definition = app.orchestrations.find((o) => o.name === found.name);
  if (!definition) {
    return { ...found, verdict: "unknown-orchestration", detail: `the app has no orchestration "${found.name}"` };
  }
  const { instanceId } = found;
  try {
    const replay = await replayHistory(definition, history, { instanceId });
    const next =
      replay.nextCalls.length > 0
        ? `next: ${replay.nextCalls.join(", ")}`
        : replay.status === "Running"
          ? "waits as recorded"
          : `ends ${replay.status}${replay.failure ? `: ${replay.failure.message}` : ""}`;
    // Code that now fails where the history did not is as broken as a divergence.
    const fails = replay.status === "Failed" && replay.recordedEnd !== "Failed";
    return { ...found, verdict: fails ? "error" : "ok", detail: next };
  } catch (error) {
    if (error instanceof NonDeterminismError) {
      return { ...found, verdict: "diverged", detail: error.message, ...(error.step ? { step: error.step } : {}) };
    }
    if (error instanceof PerdureError) return { ...found, verdict: "error", detail: error.message };
    throw error;
  }
}

const VERDICTS: Record<InstanceReplay["verdict"], string> = {
  ok: "ok",
  diverged: "DIVERGED",
  "unknown-orchestration": "NO CODE",
  "not-found": "NOT FOUND",
  error: "FAILS",
};

function formatReplays(results: InstanceReplay[], broken: number, p: Paint): string {
  if (results.length === 0) return p.dim("No instances match.");
  const rows = results.map((r) => [
    r.instanceId,
    r.name ?? "",
    r.runtimeStatus ? p.status(r.runtimeStatus) : "",
    r.verdict === "ok" ? p.green(VERDICTS.ok) : p.red(VERDICTS[r.verdict]),
    r.detail,
  ]);
  const summary =
    broken === 0
      ? p.green(`All ${results.length} replayed as recorded.`)
      : p.red(`${broken} of ${results.length} would break with this code.`);
  return `${table(["INSTANCE", "NAME", "STATUS", "REPLAY", "DETAIL"], rows, p)}\n\n${summary}`;
}
