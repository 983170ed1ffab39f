// `perdure status`, `list` and `history` as child processes against a real SQLite store,
// and the exit codes and error output every command shares.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activities, greet, importFile, orchestrations, waitForApproval } from "../fixtures/demoApp.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { runCli, runJson } from "./runCli.js";

let h: Harness;
let store: string;

beforeAll(async () => {
  h = createHarness();
  store = `sqlite:${h.file}`;
  await h.startWorker({ orchestrations, activities });
  for (const name of ["ada", "bob", "cy"]) await h.client.start(greet, name, { instanceId: `greet-${name}` });
  await h.client.start(importFile, "data.csv", { instanceId: "import-1" });
  await h.client.start(waitForApproval, { note: "please" }, { instanceId: "approval-1" });
  for (const id of ["greet-ada", "greet-bob", "greet-cy", "import-1"]) await h.client.waitForCompletion(id);
});

afterAll(async () => {
  await h.dispose();
});

interface ListJson {
  instances: { instanceId: string; runtimeStatus: string; name: string; createdAt: string }[];
  continuationToken?: string;
}

describe("perdure status", () => {
  it("prints an instance's status as JSON, with times as ISO strings", async () => {
    const { code, json } = await runJson<Record<string, unknown>>(["status", "greet-ada", "--store", store]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      instanceId: "greet-ada",
      name: "greet",
      runtimeStatus: "Completed",
      input: "ada",
      output: "Hello, ada!",
    });
    expect(new Date(json.createdAt as string).toISOString()).toBe(json.createdAt);
  });

  it("adds the history with --history, and shows a failure for people", async () => {
    const { json } = await runJson<{ history: { type: string; timestamp: string }[] }>([
      "status",
      "import-1",
      "--history",
      "--store",
      store,
    ]);
    expect(json.history.map((e) => e.type)).toContain("TaskFailed");
    expect(json.history.at(-1)?.type).toBe("ExecutionFailed");
    const human = await runCli(["status", "import-1", "--store", store]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Status:\s+Failed/);
    expect(human.stdout).toContain("[PARSE_ERROR]");
  });

  it("exits 1 for an unknown instance, with the error code on stderr and no stack", async () => {
    const result = await runCli(["status", "no-such-instance", "--store", store]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error INSTANCE_NOT_FOUND: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
    const verbose = await runCli(["status", "no-such-instance", "--store", store, "--verbose"]);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    const json = await runJson<{ error: { code: string } }>(["status", "no-such-instance", "--store", store]);
    expect(json.code).toBe(1);
    expect(json.json.error.code).toBe("INSTANCE_NOT_FOUND");
  });

  it("exits 2 for a malformed instance id", async () => {
    const result = await runCli(["status", "a/b", "--store", store]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error INVALID_INSTANCE_ID: /);
  });
});

describe("perdure list", () => {
  it("lists every instance, oldest first, and filters by status, name and id prefix", async () => {
    const all = await runJson<ListJson>(["list", "--store", store]);
    expect(all.code).toBe(0);
    expect(all.json.instances.map((i) => i.instanceId)).toEqual([
      "greet-ada",
      "greet-bob",
      "greet-cy",
      "import-1",
      "approval-1",
    ]);
    expect(all.json.continuationToken).toBeUndefined();
    const failedOrRunning = await runJson<ListJson>(["list", "--status", "failed,Running", "--store", store]);
    expect(failedOrRunning.json.instances.map((i) => i.instanceId)).toEqual(["import-1", "approval-1"]);
    const byName = await runJson<ListJson>(["list", "--name", "greet", "--prefix", "greet-b", "--store", store]);
    expect(byName.json.instances.map((i) => i.instanceId)).toEqual(["greet-bob"]);
    const future = await runJson<ListJson>(["list", "--since", "2999-01-01", "--store", store]);
    expect(future.json.instances).toEqual([]);
    const recent = await runJson<ListJson>(["list", "--since", "1h", "--store", store]);
    expect(recent.json.instances).toHaveLength(5);
  });

  it("stops at --limit and continues from the token it printed", async () => {
    const first = await runJson<ListJson>(["list", "--limit", "2", "--store", store]);
    expect(first.json.instances.map((i) => i.instanceId)).toEqual(["greet-ada", "greet-bob"]);
    expect(first.json.continuationToken).toEqual(expect.any(String));
    const rest = await runJson<ListJson>(["list", "--continue", first.json.continuationToken ?? "", "--store", store]);
    expect(rest.json.instances.map((i) => i.instanceId)).toEqual(["greet-cy", "import-1", "approval-1"]);
  });

  it("prints a table for people", async () => {
    const result = await runCli(["list", "--status", "Completed", "--store", store]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^INSTANCE\s+NAME\s+STATUS\s+CREATED\s+UPDATED/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(["greet-ada", "greet-bob", "greet-cy"]);
  });

  it("exits 2 for a status that does not exist and for a bad --limit", async () => {
    const status = await runCli(["list", "--status", "Done", "--store", store]);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^error USAGE: /);
    const limit = await runCli(["list", "--limit", "-3", "--store", store]);
    expect(limit.code).toBe(2);
  });
});

describe("perdure history", () => {
  it("prints the events of an instance", async () => {
    const { json } = await runJson<{ type: string; step?: number; name?: string }[]>([
      "history",
      "greet-ada",
      "--store",
      store,
    ]);
    expect(json.filter((e) => e.type !== "OrchestratorStarted").map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "TaskScheduled",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    const human = await runCli(["history", "greet-ada", "--store", store]);
    expect(human.stdout).toMatch(/TaskScheduled\s+1\s+sayHello "ada"/);
    expect(human.stdout).not.toContain("OrchestratorStarted");
  });
});

describe("usage errors", () => {
  it("exits 2 for an unknown command or option, and 0 for --help and --version", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
    expect((await runCli(["list", "--colour"])).code).toBe(2);
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes");
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 1 for a PostgreSQL server it cannot reach, and 2 for a store file that does not exist", async () => {
    const postgres = await runCli(["list", "--store", "postgres://perdure@127.0.0.1:1/perdure"]);
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toMatch(/^error STORE_UNAVAILABLE: /);
    expect(postgres.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(["list", "--store", `${h.file}.missing`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error STORE_NOT_FOUND: /);
  });

  it("takes the store from PERDURE_STORE", async () => {
    const { json } = await runJson<ListJson>(["list", "--prefix", "import"], { env: { PERDURE_STORE: store } });
    expect(json.instances.map((i) => i.instanceId)).toEqual(["import-1"]);
  });
});
