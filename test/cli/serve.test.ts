// `perdure serve`: a worker, the management API and the dashboard in one child process,
// stopped by SIGTERM; the other commands work on its store while it runs.

import type { ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { tempStore } from "../helpers/tempStore.js";
import { DEMO_APP, runCli, runJson, spawnCli } from "./runCli.js";

interface ServeInfo {
  url: string;
  api: string;
  dashboard: string | null;
  store: string;
  orchestrations: string[];
}

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Starts `perdure serve --json` and resolves with the JSON document it prints once listening. */
function serve(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; info: ServeInfo }> {
  const child = spawnCli(["serve", "--app", DEMO_APP, "--port", "0", "--json", ...args], { env });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        resolve({ child, info: JSON.parse(stdout) as ServeInfo });
      } catch {
        // Not the whole document yet.
      }
    });
    child.on("exit", (code) => reject(new Error(`perdure serve exited with ${code}:\n${stdout}\n${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on("exit", (code) => resolve(code));
  });
}

describe("perdure serve", () => {
  it("runs the app's orchestrations behind the management API and the dashboard, until SIGTERM", async () => {
    const temp = tempStore();
    await temp.store.close();
    cleanups.push(temp.dispose);
    const store = `sqlite:${temp.file}`;
    const { child, info } = await serve(["--store", store]);
    expect(info.orchestrations).toContain("processOrder");
    expect(info.api).toBe(`${info.url}/runtime/webhooks/durabletask`);
    expect(info.dashboard).toBe(`${info.url}/`);

    const page = await fetch(info.url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('src="dashboard/app.js"');

    const started = await fetch(`${info.api}/orchestrators/greet/served-1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify("Dee"),
    });
    expect(started.status).toBe(202);
    let output: unknown;
    for (let i = 0; i < 200 && output === undefined; i++) {
      const status = (await (await fetch(`${info.api}/instances/served-1`)).json()) as {
        runtimeStatus: string;
        output: unknown;
      };
      if (status.runtimeStatus === "Completed") output = status.output;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(output).toBe("Hello, Dee!");

    // Another process reads the same store while the server runs.
    const status = await runJson<{ runtimeStatus: string }>(["status", "served-1", "--store", store]);
    expect(status.json.runtimeStatus).toBe("Completed");
    // And starts work that the server's worker runs.
    const waited = await runJson<{ output: unknown }>([
      "start",
      "greet",
      "--app",
      DEMO_APP,
      "--input",
      '"Eve"',
      "--wait",
      "--store",
      store,
    ]);
    expect(waited.json.output).toBe("Hello, Eve!");

    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
  });

  it("requires the API key it was given, and shows the dashboard link with it", async () => {
    const temp = tempStore();
    await temp.store.close();
    cleanups.push(temp.dispose);
    const key = "serve-test-key-0123456789";
    const { child, info } = await serve(["--store", `sqlite:${temp.file}`], { PERDURE_API_KEY: key });
    expect(info.dashboard).toBe(`${info.url}/?code=${key}`);
    expect((await fetch(`${info.api}/instances`)).status).toBe(401);
    expect((await fetch(`${info.api}/instances?code=${key}`)).status).toBe(200);
    child.kill("SIGINT");
    expect(await exited(child)).toBe(0);
  });

  it("exits 2 when asked to listen beyond loopback without an API key", async () => {
    const temp = tempStore();
    await temp.store.close();
    cleanups.push(temp.dispose);
    const result = await runCli([
      "serve",
      "--app",
      DEMO_APP,
      "--host",
      "0.0.0.0",
      "--port",
      "0",
      "--store",
      `sqlite:${temp.file}`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error INVALID_ARGUMENT: /);
  });
});
