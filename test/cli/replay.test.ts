// `perdure replay` as a child process: running instances recorded by a worker with the demo
// app, replayed against the same app (all fine) and against a changed one (exit 1, and why).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activities, orchestrations, processOrder, waitForApproval } from "../fixtures/demoApp.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";
import { DEMO_APP, runCli, runJson } from "./runCli.js";

const CHANGED_APP = fileURLToPath(new URL("../fixtures/demoAppV2.ts", import.meta.url));

interface ReplayJson {
  replayed: number;
  broken: number;
  instances: { instanceId: string; name?: string; verdict: string; detail: string; step?: number }[];
}

let h: Harness;
let store: string;

beforeAll(async () => {
  h = createHarness();
  store = `sqlite:${h.file}`;
  await h.startWorker({ orchestrations, activities });
  const order = { id: "o-1", customer: "ada@example.com", items: ["book"], waitForConfirmation: true };
  await h.client.start(processOrder, order, { instanceId: "order-1" });
  await h.client.start(waitForApproval, { note: "needs a manager" }, { instanceId: "approval-1" });
  await h.client.start(waitForApproval, { note: "done" }, { instanceId: "approval-2" });
  await h.client.raiseEvent("approval-2", "approval", true);
  await h.client.waitForCompletion("approval-2");
  await waitFor(async () => {
    const status = await h.client.getStatus("order-1");
    return (status?.customStatus as { stage?: string } | undefined)?.stage === "awaiting confirmation";
  }, "order-1 to wait for its confirmation");
});

afterAll(async () => {
  await h.dispose();
});

describe("perdure replay", () => {
  it("replays every running instance against the same code: all as recorded, exit 0", async () => {
    const { code, json } = await runJson<ReplayJson>(["replay", "--app", DEMO_APP, "--store", store]);
    expect(code).toBe(0);
    expect(json.broken).toBe(0);
    // approval-2 finished: not among the default Running and Suspended instances.
    expect(json.instances.map((i) => [i.instanceId, i.verdict, i.detail]).sort()).toEqual([
      ["approval-1", "ok", "waits as recorded"],
      ["order-1", "ok", "waits as recorded"],
    ]);
  });

  it("finds the instances a changed app would break, says why, and exits 1", async () => {
    const { code, stdout } = await runCli(["replay", "--app", CHANGED_APP, "--store", store]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /order-1\s+processOrder\s+Running\s+DIVERGED\s+.*at step 1: the code called activity "sendEmail"/,
    );
    expect(stdout).toMatch(
      /approval-1\s+waitForApproval\s+Running\s+NO CODE\s+the app has no orchestration "waitForApproval"/,
    );
    expect(stdout).toContain("2 of 2 would break with this code.");

    const { json } = await runJson<ReplayJson>([
      "replay",
      "order-1",
      "approval-2",
      "--app",
      CHANGED_APP,
      "--store",
      store,
    ]);
    expect(json.broken).toBe(2);
    const byId = new Map(json.instances.map((i) => [i.instanceId, i]));
    expect(byId.get("order-1")).toMatchObject({ verdict: "diverged", step: 1 });
    // A finished instance named explicitly is replayed too.
    expect(byId.get("approval-2")).toMatchObject({ verdict: "unknown-orchestration" });
  });

  it("replays finished instances to their recorded end with --status, and reports unknown ids", async () => {
    const { code, json } = await runJson<ReplayJson>([
      "replay",
      "--app",
      DEMO_APP,
      "--status",
      "completed",
      "--store",
      store,
    ]);
    expect(code).toBe(0);
    expect(json.instances).toEqual([
      {
        instanceId: "approval-2",
        name: "waitForApproval",
        runtimeStatus: "Completed",
        verdict: "ok",
        detail: "ends Completed",
      },
    ]);
    const missing = await runJson<ReplayJson>(["replay", "nobody", "--app", DEMO_APP, "--store", store]);
    expect(missing.code).toBe(1);
    expect(missing.json.instances).toEqual([
      { instanceId: "nobody", verdict: "not-found", detail: "no such instance" },
    ]);
    const usage = await runCli(["replay", "--app", DEMO_APP, "--status", "Sleeping", "--store", store]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--status "Sleeping" is not a status/);
  });

  it("replays a history saved with `perdure history ID --json`, without the store", async () => {
    const saved = await runCli(["history", "order-1", "--json", "--store", store]);
    expect(saved.code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), "perdure-replay-")), "order-1.json");
    writeFileSync(file, saved.stdout);

    const same = await runJson<ReplayJson>(["replay", "order-1", "--history", file, "--app", DEMO_APP]);
    expect(same.code).toBe(0);
    expect(same.json.instances).toEqual([
      { instanceId: "order-1", name: "processOrder", verdict: "ok", detail: "waits as recorded" },
    ]);
    const changed = await runJson<ReplayJson>(["replay", "order-1", "--history", file, "--app", CHANGED_APP]);
    expect(changed.code).toBe(1);
    expect(changed.json.instances[0]).toMatchObject({ verdict: "diverged", step: 1 });

    const twoIds = await runCli(["replay", "order-1", "order-2", "--history", file, "--app", DEMO_APP]);
    expect(twoIds.code).toBe(2);
    expect(twoIds.stderr).toMatch(/--history replays one saved history/);
    const notHistory = join(dirname(file), "status.json");
    writeFileSync(notHistory, JSON.stringify({ runtimeStatus: "Running" }));
    const wrong = await runCli(["replay", "order-1", "--history", notHistory, "--app", DEMO_APP]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/must be an array of events/);
    rmSync(dirname(file), { recursive: true, force: true });
  });
});
