import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type HistoryEvent } from "perdure";
import { sqliteStore } from "perdure/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { type ExampleRun as Run, runExample as runChild } from "../../test/helpers/runExample.js";
import { APPROVAL_INSTANCE_ID } from "./orchestration.js";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Runs the example as a real child process, the way its npm script does. */
const runExample = (args: string[]): Promise<Run> => runChild(MAIN, args);

/** The JSON summary: the last line of stdout. */
function summaryOf(run: Run): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

async function historyOf(db: string): Promise<HistoryEvent[]> {
  const store = sqliteStore(db, { durability: "normal" });
  try {
    return await createClient({ store }).getHistory(APPROVAL_INSTANCE_ID);
  } finally {
    await store.close();
  }
}

const activitiesIn = (history: HistoryEvent[]): string[] =>
  history.flatMap((e) => (e.type === "TaskScheduled" ? [e.name] : []));

describe("human-interaction example", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function tempDb(): string {
    const dir = mkdtempSync(join(tmpdir(), "perdure-approval-"));
    dirs.push(dir);
    return join(dir, "approval.db");
  }

  // Timeouts that must not fire are minutes long, so the path taken never depends on timing.

  it("approves before the first timeout without escalating", async () => {
    const db = tempDb();
    const summary = summaryOf(await runExample(["--respond", "0", "--timeout", "10m", "--db", db]));
    expect(summary).toMatchObject({
      status: "Completed",
      outcome: "approved",
      decidedBy: "alice@example.com",
      escalated: false,
    });
    const history = await historyOf(db);
    expect(activitiesIn(history)).toEqual(["sendApprovalRequest"]);
    expect(history.some((e) => e.type === "TimerFired")).toBe(false);
  });

  it("reports a rejection as the answer", async () => {
    const summary = summaryOf(
      await runExample(["--respond", "0", "--decision", "reject", "--timeout", "10m", "--db", tempDb()]),
    );
    expect(summary).toMatchObject({ outcome: "rejected", decidedBy: "alice@example.com", escalated: false });
  });

  it("escalates after the first timeout and takes the manager's approval", async () => {
    const db = tempDb();
    const args = ["--respond", "escalated", "--timeout", "200ms", "--escalation-timeout", "10m", "--db", db];
    const summary = summaryOf(await runExample(args));
    expect(summary).toMatchObject({ outcome: "approved", decidedBy: "bob@example.com", escalated: true });
    expect(activitiesIn(await historyOf(db))).toEqual(["sendApprovalRequest", "escalate"]);
  });

  it("times out after the escalation when nobody answers", async () => {
    const db = tempDb();
    const args = ["--respond", "never", "--timeout", "200ms", "--escalation-timeout", "200ms", "--db", db];
    const summary = summaryOf(await runExample(args));
    expect(summary).toMatchObject({ status: "Completed", outcome: "timed-out", escalated: true });
    expect(summary.decidedBy).toBeUndefined();
    const history = await historyOf(db);
    expect(activitiesIn(history)).toEqual(["sendApprovalRequest", "escalate"]);
    expect(history.filter((e) => e.type === "TimerFired")).toHaveLength(2);
  });

  it("exits 2 on a bad flag", async () => {
    const run = await runExample(["--decision", "maybe", "--db", tempDb()]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
