// The commands that change instances — raise, suspend, resume, terminate, rewind, restart,
// purge — as child processes against a store a worker in this process runs.

import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activities, greet, importFile, orchestrations, waitForApproval } from "../fixtures/demoApp.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";
import { runCli, runJson } from "./runCli.js";

let h: Harness;
let store: string;

beforeAll(async () => {
  h = createHarness();
  store = `sqlite:${h.file}`;
  await h.startWorker({ orchestrations, activities });
});

afterAll(async () => {
  await h.dispose();
});

const statusOf = async (id: string) => (await h.client.getStatus(id))?.runtimeStatus;

describe("perdure raise, suspend, resume", () => {
  it("suspends and resumes an instance, and delivers an event with JSON data", async () => {
    await h.client.start(waitForApproval, { note: "n" }, { instanceId: "approve-1" });
    await waitFor(async () => (await statusOf("approve-1")) === "Running", "approve-1 to run");

    const suspend = await runJson(["suspend", "approve-1", "--reason", "maintenance", "--store", store]);
    expect(suspend).toMatchObject({ code: 0, json: { instanceId: "approve-1", action: "suspend", ok: true } });
    expect(await statusOf("approve-1")).toBe("Suspended");
    // Suspending twice is refused: the instance is not Running.
    const again = await runCli(["suspend", "approve-1", "--store", store]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error INVALID_INSTANCE_STATE: /);

    expect((await runCli(["raise", "approve-1", "approval", '{"ok":true,"by":"cli"}', "--store", store])).code).toBe(0);
    const resume = await runCli(["resume", "approve-1", "--store", store]);
    expect(resume.code).toBe(0);
    expect(resume.stdout.trim()).toBe("Resumed approve-1.");
    const done = await h.client.waitForCompletion("approve-1");
    expect(done.output).toEqual({ ok: true, by: "cli" });
    const reasons = (await h.client.getHistory("approve-1")).filter((e) => e.type === "ExecutionSuspended");
    expect(reasons).toMatchObject([{ reason: "maintenance" }]);
  });

  it("reads event data from @file, and refuses data that is not JSON with exit 2", async () => {
    await h.client.start(waitForApproval, { note: "n" }, { instanceId: "approve-2" });
    const bad = await runCli(["raise", "approve-2", "approval", "yes", "--store", store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error BAD_JSON: /);
    const file = `${h.file}.event.json`;
    writeFileSync(file, '["from", "file"]');
    expect((await runCli(["raise", "approve-2", "approval", `@${file}`, "--store", store])).code).toBe(0);
    expect((await h.client.waitForCompletion("approve-2")).output).toEqual(["from", "file"]);
  });
});

describe("perdure terminate", () => {
  it("terminates an active instance with a reason, and exits 1 for a finished one", async () => {
    await h.client.start(waitForApproval, { note: "n" }, { instanceId: "approve-3" });
    const done = await runCli(["terminate", "approve-3", "--reason", "not needed", "--store", store]);
    expect(done.code).toBe(0);
    const status = await h.client.getStatus("approve-3");
    expect(status).toMatchObject({ runtimeStatus: "Terminated", output: "not needed" });
    const again = await runJson<{ error: { code: string } }>(["terminate", "approve-3", "--store", store]);
    expect(again.code).toBe(1);
    expect(again.json.error.code).toBe("INSTANCE_NOT_ACTIVE");
  });
});

describe("perdure rewind and restart", () => {
  it("rewinds a Failed instance and refuses to rewind one that has not failed", async () => {
    await h.client.start(importFile, "x.csv", { instanceId: "import-r" });
    await h.client.waitForCompletion("import-r");
    expect((await runCli(["rewind", "import-r", "--reason", "fixed the file", "--store", store])).code).toBe(0);
    await waitFor(
      async () => (await h.client.getHistory("import-r")).some((e) => e.type === "ExecutionRewound"),
      "the rewind in the history",
    );
    // parseFile always fails: the rewound run fails again.
    expect((await h.client.waitForCompletion("import-r")).runtimeStatus).toBe("Failed");
    await h.client.start(greet, "z", { instanceId: "greet-r" });
    await h.client.waitForCompletion("greet-r");
    const refused = await runCli(["rewind", "greet-r", "--store", store]);
    expect(refused.code).toBe(1);
  });

  it("restarts under the same id, or under a new one with --new-id", async () => {
    await h.client.start(greet, "ann", { instanceId: "greet-s" });
    await h.client.waitForCompletion("greet-s");
    const same = await runJson<{ instanceId: string }>(["restart", "greet-s", "--store", store]);
    expect(same.json.instanceId).toBe("greet-s");
    const named = await runJson<{ instanceId: string }>([
      "restart",
      "greet-s",
      "--new-id",
      "greet-s2",
      "--store",
      store,
    ]);
    expect(named.json.instanceId).toBe("greet-s2");
    const random = await runJson<{ instanceId: string }>(["restart", "greet-s", "--new-id", "--store", store]);
    expect(random.json.instanceId).not.toBe("greet-s");
    for (const id of ["greet-s", "greet-s2", random.json.instanceId]) {
      expect((await h.client.waitForCompletion(id)).output).toBe("Hello, ann!");
    }
  });
});

describe("perdure purge", () => {
  it("purges one finished instance, refuses an active one, and purges by filter", async () => {
    for (const name of ["p1", "p2", "p3"]) await h.client.start(greet, name, { instanceId: `purge-${name}` });
    for (const name of ["p1", "p2", "p3"]) await h.client.waitForCompletion(`purge-${name}`);
    await h.client.start(waitForApproval, { note: "n" }, { instanceId: "purge-active" });

    const one = await runJson<{ instancesDeleted: number }>(["purge", "purge-p1", "--store", store]);
    expect(one.json).toEqual({ instancesDeleted: 1 });
    expect(await h.client.getStatus("purge-p1")).toBeUndefined();
    const active = await runCli(["purge", "purge-active", "--store", store]);
    expect(active.code).toBe(1);
    expect(active.stderr).toMatch(/^error INVALID_INSTANCE_STATE: /);

    // Nothing created before the epoch; then every Completed instance created until now.
    const none = await runJson<{ instancesDeleted: number }>(["purge", "--before", "1970-01-02", "--store", store]);
    expect(none.json.instancesDeleted).toBe(0);
    const completed = (await h.client.list({ runtimeStatus: "Completed", pageSize: 1000 })).instances.length;
    const many = await runJson<{ instancesDeleted: number }>([
      "purge",
      "--status",
      "Completed",
      "--before",
      "0s",
      "--store",
      store,
    ]);
    expect(many.json.instancesDeleted).toBe(completed);
    expect(await h.client.getStatus("purge-p2")).toBeUndefined();
    expect(await statusOf("purge-active")).toBe("Running");
  });

  it("refuses a bare purge, and an id together with filters", async () => {
    const bare = await runCli(["purge", "--store", store]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^error USAGE: /);
    expect((await runCli(["purge", "x", "--status", "Failed", "--store", store])).code).toBe(2);
  });
});
