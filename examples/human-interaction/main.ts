// Human interaction: asks for an approval, escalates when nobody answers in time, and gives
// up after a second timeout. This program plays the human too: it raises the approval event
// through the client when --respond says so.
//
//   npm run example:human-interaction                                        # approved at once
//   npm run example:human-interaction -- --respond escalated --timeout 2s    # approved after escalation
//   npm run example:human-interaction -- --respond never --timeout 1s --escalation-timeout 1s
//
// stdout: the messages sent, a short summary, then one JSON line. Errors go to stderr.

import { parseArgs } from "node:util";
import { type Client, createClient, createWorker, type Logger, PerdureError, toMilliseconds } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { escalate, sendApprovalRequest } from "./activities.js";
import {
  APPROVAL_EVENT,
  APPROVAL_INSTANCE_ID,
  type ApprovalInput,
  type ApprovalProgress,
  type ApprovalResult,
  type Decision,
  requestApproval,
} from "./orchestration.js";

const USAGE = `Usage: npm run example:human-interaction -- [--respond WHEN] [--decision approve|reject]
         [--timeout D] [--escalation-timeout D] [--db FILE]
  --respond WHEN          when the human answers: after a duration D (default 1s), "escalated"
                          (once the request has been escalated), or "never"
  --decision              the answer (default approve)
  --timeout D             how long the approver has (default 3s)
  --escalation-timeout D  how long the manager has after the escalation (default 3s)
  --db FILE               Perdure store file (default ./perdure-human-interaction.db)
Durations: milliseconds or a number with a unit, such as 500ms, 2s, 1m.`;

const FINISHED = new Set(["Completed", "Failed", "Terminated"]);

const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => console.error(message, ...args),
  error: (message, ...args) => console.error(message, ...args),
};

class UsageError extends Error {}

/** When the simulated human answers. */
type Respond = { after: number } | "escalated" | "never";

interface Flags {
  respond: Respond;
  approved: boolean;
  timeoutMs: number;
  escalationTimeoutMs: number;
  db: string;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      respond: { type: "string", default: "1s" },
      decision: { type: "string", default: "approve" },
      timeout: { type: "string", default: "3s" },
      "escalation-timeout": { type: "string", default: "3s" },
      db: { type: "string", default: "./perdure-human-interaction.db" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.decision !== "approve" && values.decision !== "reject") {
    throw new UsageError(`--decision must be approve or reject, got ${JSON.stringify(values.decision)}.`);
  }
  if (values.db.trim() === "") throw new UsageError("--db must name a file.");
  const { respond } = values;
  return {
    respond: respond === "escalated" || respond === "never" ? respond : { after: duration("--respond", respond) },
    approved: values.decision === "approve",
    timeoutMs: duration("--timeout", values.timeout),
    escalationTimeoutMs: duration("--escalation-timeout", values["escalation-timeout"]),
    db: values.db,
  };
}

function duration(flag: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : text;
  try {
    return toMilliseconds(value, flag);
  } catch (error) {
    if (error instanceof PerdureError) throw new UsageError(error.message);
    throw error;
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The human: once the request has reached them, waits as --respond says, then answers
 * whoever the request is assigned to now, the way a reviewer would from a dashboard.
 * Gives up without answering once `stop()` is called.
 */
function respondLater(client: Client, flags: Flags): { stop: () => void } {
  let stopped = false;
  const until = async (ready: (progress: ApprovalProgress | undefined) => boolean): Promise<void> => {
    while (!stopped && !ready(await progressOf(client))) await pause(50);
  };
  const run = async (): Promise<void> => {
    if (flags.respond === "never") return;
    if (flags.respond === "escalated") {
      await until((progress) => progress?.stage === "escalated");
    } else {
      await until((progress) => progress !== undefined);
      await pause(flags.respond.after);
    }
    if (stopped) return;
    const by = (await progressOf(client))?.assignee ?? "someone";
    const decision: Decision = { approved: flags.approved, by };
    console.log(`  <- ${by} answers: ${flags.approved ? "approve" : "reject"}`);
    await client.raiseEvent(APPROVAL_INSTANCE_ID, APPROVAL_EVENT, decision);
  };
  run().catch((error: unknown) => {
    // Too late: the instance gave up before the answer came.
    if (error instanceof PerdureError && error.code === "INSTANCE_NOT_ACTIVE") return;
    console.error("raising the approval event failed:", error);
  });
  return {
    stop: () => {
      stopped = true;
    },
  };
}

async function progressOf(client: Client): Promise<ApprovalProgress | undefined> {
  return (await client.getStatus(APPROVAL_INSTANCE_ID))?.customStatus as ApprovalProgress | undefined;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const store = sqliteStore(flags.db);
  const client = createClient({ store });
  const worker = createWorker({
    store,
    orchestrations: [requestApproval],
    activities: [sendApprovalRequest, escalate],
    logger,
    handleSignals: false,
  });
  const onSignal = (): void => void worker.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);

  // An instance that an interrupted run left active is resumed, not started over.
  const existing = await client.getStatus(APPROVAL_INSTANCE_ID);
  const resumed = existing !== undefined && !FINISHED.has(existing.runtimeStatus);
  if (!resumed) {
    const input: ApprovalInput = {
      request: "purchase order #4711, 12 laptops",
      approver: "alice@example.com",
      manager: "bob@example.com",
      timeoutMs: flags.timeoutMs,
      escalationTimeoutMs: flags.escalationTimeoutMs,
    };
    await client.start(requestApproval, input, { instanceId: APPROVAL_INSTANCE_ID, replaceIfFinished: true });
  }
  await worker.start();
  const human = respondLater(client, flags);
  const final = await client.waitForCompletion<ApprovalInput, ApprovalResult>(APPROVAL_INSTANCE_ID);
  human.stop();
  await worker.stop();
  await store.close();
  process.off("SIGINT", onSignal).off("SIGTERM", onSignal);

  const result = final.output;
  if (final.runtimeStatus !== "Completed" || !result) {
    console.error(`approval ${final.runtimeStatus}: ${final.failure?.message ?? "no result"}`);
  } else if (result.outcome === "timed-out") {
    console.log("Nobody answered, not even after the escalation: the request timed out.");
  } else {
    const when = result.escalated ? "after the escalation" : "before the first timeout";
    console.log(`${result.outcome === "approved" ? "Approved" : "Rejected"} by ${result.decidedBy}, ${when}.`);
  }
  console.log(JSON.stringify({ instanceId: APPROVAL_INSTANCE_ID, status: final.runtimeStatus, resumed, ...result }));
  return final.runtimeStatus === "Completed" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // parseArgs reports unknown or malformed flags with codes starting ERR_PARSE_ARGS.
    if (error instanceof UsageError || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      console.error(`human-interaction: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error("human-interaction failed:", error);
    process.exit(1);
  },
);
