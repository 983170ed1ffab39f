// `perdure entity get|signal|list` as child processes against a real SQLite store.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entity } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";
import { runCli, runJson } from "./runCli.js";

const counter = entity("counter", {
  initialState: 0,
  operations: { add: (n, amount: number, ctx) => ctx.setState(n + amount) },
});

/** Sorts before "counter", so that it stays off the list test's pages. */
const audit = entity("audit", {
  initialState: 0,
  operations: { add: (n, amount: number, ctx) => ctx.setState(n + amount) },
});

let h: Harness;
let store: string;

beforeAll(async () => {
  h = createHarness();
  store = `sqlite:${h.file}`;
  await h.startWorker({ entities: [counter, audit] });
  for (const key of ["a", "b", "c"]) await h.client.signalEntity(counter, key, "add", key.charCodeAt(0));
  await waitFor(async () => (await h.client.getEntity(counter, "c")).exists, "the entities");
});

afterAll(async () => {
  await h.dispose();
});

describe("perdure entity", () => {
  it("signal sends an operation with a JSON input, and get shows the state", async () => {
    const sent = await runJson<Record<string, unknown>>([
      "entity",
      "signal",
      "counter",
      "a",
      "add",
      "--input",
      "3",
      "--store",
      store,
    ]);
    expect(sent.code).toBe(0);
    expect(sent.json).toMatchObject({ name: "counter", key: "a", operation: "add" });
    await waitFor(async () => (await h.client.getEntity(counter, "a")).state === 100, "the signal");
    const got = await runJson<Record<string, unknown>>(["entity", "get", "counter", "a", "--store", store]);
    expect(got.code).toBe(0);
    expect(got.json).toMatchObject({ name: "counter", key: "a", exists: true, state: 100, lockedBy: null });
    const text = await runCli(["entity", "get", "counter", "a", "--store", store]);
    expect(text.stdout).toContain("counter@a");
  });

  it("get shows the recent operations, newest first, failures included", async () => {
    await h.client.signalEntity("audit", "ops", "add", 5);
    await h.client.signalEntity("audit", "ops", "explode", { why: "test" });
    await waitFor(async () => (await h.client.getEntityOperations(audit, "ops")).operations.length === 2, "both");
    const got = await runJson<Record<string, unknown>>(["entity", "get", "audit", "ops", "--store", store]);
    expect(got.code).toBe(0);
    expect(got.json).toMatchObject({
      state: 5,
      pendingOperations: 0,
      recentOperations: [
        {
          kind: "signal",
          operation: "explode",
          sender: { kind: "client" },
          ok: false,
          error: { name: "UnknownEntityOperationError" },
          inputPreview: '{"why":"test"}',
        },
        { kind: "signal", operation: "add", sender: { kind: "client" }, ok: true, error: null, inputPreview: "5" },
      ],
    });
    const text = (await runCli(["entity", "get", "audit", "ops", "--store", store])).stdout;
    expect(text).toContain("Recent operations");
    const lines = text.split("\n");
    const header = lines.findIndex((l) => l.startsWith("APPLIED"));
    expect(lines[header]).toMatch(/^APPLIED\s+KIND\s+OPERATION\s+SENDER\s+OUTCOME\s+INPUT$/);
    expect(lines[header + 1]).toMatch(
      /signal\s+explode\s+client\s+failed: UnknownEntityOperationError: .*\{"why":"test"\}$/,
    );
    expect(lines[header + 2]).toMatch(/signal\s+add\s+client\s+ok\s+5$/);
    expect(lines[header + 3]).toBe("0 operation(s) pending.");
  });

  it("get exits 1 for an entity without state", async () => {
    const got = await runJson<Record<string, unknown>>(["entity", "get", "counter", "nobody", "--store", store]);
    expect(got.code).toBe(1);
    expect(got.json).toMatchObject({ exists: false, state: null });
  });

  it("list pages through entities", async () => {
    const first = await runJson<{ entities: { key: string }[]; continuationToken?: string }>([
      "entity",
      "list",
      "counter",
      "--limit",
      "2",
      "--store",
      store,
    ]);
    expect(first.code).toBe(0);
    expect(first.json.entities.map((e) => e.key)).toEqual(["a", "b"]);
    expect(first.json.continuationToken).toBeTruthy();
    const rest = await runJson<{ entities: { key: string }[] }>([
      "entity",
      "list",
      "--continue",
      first.json.continuationToken as string,
      "--store",
      store,
    ]);
    expect(rest.json.entities.map((e) => e.key)).toEqual(["c"]);
  });

  it("refuses a malformed input or time with exit code 2", async () => {
    const bad = await runCli(["entity", "signal", "counter", "a", "add", "--input", "{nope", "--store", store]);
    expect(bad.code).toBe(2);
    const at = await runCli(["entity", "signal", "counter", "a", "add", "--at", "whenever", "--store", store]);
    expect(at.code).toBe(2);
  });
});
