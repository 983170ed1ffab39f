// `perdure start` (with and without --wait) as a child process; a worker in this process
// runs what it starts. And the progress display of long waits, on a stand-in terminal.

import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitWithProgress } from "../../src/cli/progress.js";
import { activities, orchestrations, processOrder } from "../fixtures/demoApp.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";
import { DEMO_APP, runCli, runJson } from "./runCli.js";

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

describe("perdure start", () => {
  it("starts an instance with JSON input under the id given, and prints its id", async () => {
    const { code, json } = await runJson<{ instanceId: string; name: string }>([
      "start",
      "greet",
      "--app",
      DEMO_APP,
      "--input",
      '"Ada"',
      "--id",
      "start-1",
      "--store",
      store,
    ]);
    expect(code).toBe(0);
    expect(json).toEqual({ instanceId: "start-1", name: "greet" });
    expect((await h.client.waitForCompletion("start-1")).output).toBe("Hello, Ada!");
    // The same id again, while the first run exists: refused, exit 1.
    const again = await runCli(["start", "greet", "--app", DEMO_APP, "--id", "start-1", "--store", store]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error INSTANCE_ALREADY_EXISTS: /);
    // Unless it is to replace a finished one.
    const replaced = await runCli([
      "start",
      "greet",
      "--app",
      DEMO_APP,
      "--id",
      "start-1",
      "--input",
      '"Bo"',
      "--replace",
      "--store",
      store,
    ]);
    expect(replaced.code).toBe(0);
    expect((await h.client.waitForCompletion("start-1")).output).toBe("Hello, Bo!");
  });

  it("--wait prints the final status and exits 0 when it Completed, 1 when it Failed", async () => {
    const file = `${h.file}.input.json`;
    writeFileSync(file, JSON.stringify({ id: "9", customer: "c@example.com", items: ["pen"] }));
    const ok = await runJson<{ runtimeStatus: string; output: unknown }>([
      "start",
      "processOrder",
      "--app",
      DEMO_APP,
      "--input",
      `@${file}`,
      "--wait",
      "--store",
      store,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ runtimeStatus: "Completed", output: { receipt: "R-9", shipped: 1 } });

    const failed = await runCli([
      "start",
      "importFile",
      "--app",
      DEMO_APP,
      "--input",
      '"f.csv"',
      "--wait",
      "--store",
      store,
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/Status:\s+Failed/);
    expect(failed.stdout).toContain("PARSE_ERROR");
  });

  it("--wait --timeout gives up with exit 1 and leaves the instance running", async () => {
    const result = await runCli([
      "start",
      "waitForApproval",
      "--app",
      DEMO_APP,
      "--input",
      '{"note":"n"}',
      "--id",
      "start-timeout",
      "--wait",
      "--timeout",
      "1s",
      "--store",
      store,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error TIMEOUT: /);
    expect((await h.client.getStatus("start-timeout"))?.runtimeStatus).toBe("Running");
  });

  it("exits 2 for an unknown orchestration, input that is not JSON, or no --app", async () => {
    const unknown = await runCli(["start", "nope", "--app", DEMO_APP, "--store", store]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("greet");
    const badInput = await runCli(["start", "greet", "--app", DEMO_APP, "--input", "{oops", "--store", store]);
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toMatch(/^error BAD_JSON: /);
    expect((await runCli(["start", "greet", "--store", store])).code).toBe(2);
  });

  it("exits 2 for an app module that is missing or exports no orchestrations", async () => {
    const missing = await runCli(["start", "greet", "--app", "test/fixtures/nowhere.ts", "--store", store]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error APP_MODULE: /);
    const notAnApp = await runCli(["start", "greet", "--app", "test/fixtures/notAnApp.ts", "--store", store]);
    expect(notAnApp.code).toBe(2);
    expect(notAnApp.stderr).toMatch(/^error APP_MODULE: .*orchestrations/);
  });

  it("uses the store the app module exports, and refuses a --store given as well", async () => {
    const env = { PERDURE_TEST_APP_STORE: h.file };
    const started = await runJson<{ instanceId: string }>(
      ["start", "greet", "--app", "test/fixtures/storeApp.ts", "--input", '"Cy"'],
      { env },
    );
    expect(started.code).toBe(0);
    expect((await h.client.waitForCompletion(started.json.instanceId)).output).toBe("Hello, Cy!");
    const both = await runCli(["start", "greet", "--app", "test/fixtures/storeApp.ts", "--store", store], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^error USAGE: /);
  });
});

/** A stand-in for a terminal on stderr: it records what is written. */
function fakeTerminal(): NodeJS.WriteStream & { text: string } {
  const stream = {
    isTTY: true,
    columns: 200,
    text: "",
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe("progress display", () => {
  it("redraws one line with the status and activities done, and clears it at the end", async () => {
    const order = { id: "p", customer: "c", items: ["a", "b"], waitForConfirmation: true };
    const id = await h.client.start(processOrder, order, { instanceId: "progress-1" });
    const terminal = fakeTerminal();
    const waiting = waitWithProgress(h.client, id, { stream: terminal });
    await waitFor(() => terminal.text.includes("awaiting confirmation"), "progress to show the custom status");
    expect(terminal.text).toMatch(/progress-1 Running · \d\/\d activities done/);
    await h.client.raiseEvent(id, "confirmed");
    const status = await waiting;
    expect(status.runtimeStatus).toBe("Completed");
    expect(terminal.text.endsWith("\r\u001b[2K")).toBe(true);
    expect(terminal.text).not.toContain("\n");
  });

  it("writes a line per status change when stderr is not a terminal", async () => {
    const id = await h.client.start(processOrder, { id: "q", customer: "c", items: [], waitForConfirmation: true });
    const lines: string[] = [];
    const pipe = { isTTY: false, write: (chunk: string) => lines.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
    const waiting = waitWithProgress(h.client, id, { stream: pipe });
    await waitFor(async () => (await h.client.getStatus(id))?.runtimeStatus === "Running", "the order to run");
    await waitFor(() => lines.includes(`${id}: Running\n`), "the Running line");
    await h.client.raiseEvent(id, "confirmed");
    await waiting;
    expect(lines.filter((line) => line === `${id}: Running\n`)).toHaveLength(1);
  });
});
