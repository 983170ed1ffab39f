import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANAGEMENT_PREFIX } from "../../src/http/index.js";
import { orchestration } from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";
import { type FuzzRequest, fuzzRequests, seededRandom } from "./fuzzRequests.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

const REQUESTS = 3000;
const CONCURRENCY = 8;
/** A guard against a hung run, not a speed assertion. */
const DEADLINE_MS = 120_000;
const BODY_LIMIT = 64 * 1024;

const echo = orchestration("echo", async (_ctx, input: unknown) => ({ echoed: input ?? null }));
const approval = orchestration("approval", async (ctx, input: unknown) => {
  ctx.setCustomStatus("waiting");
  return { input: input ?? null, approved: await ctx.waitForEvent<unknown>("approve") };
});
const fails = orchestration("fails", async () => {
  throw new RangeError("failed on purpose");
});

interface Exchange {
  status: number;
  contentType: string;
  body: string;
}

function send(agent: Agent | false, port: number, req: FuzzRequest): Promise<Exchange | { error: Error }> {
  return new Promise((resolve) => {
    const headers = { ...req.headers, ...(req.body ? { "content-length": String(req.body.length) } : {}) };
    const r = request({ host: "127.0.0.1", port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", (error) => resolve({ error }));
    });
    r.on("error", (error) => resolve({ error }));
    r.setTimeout(30_000, () => r.destroy(new Error("no answer within 30 s")));
    r.end(req.body);
  });
}

/** What a response may look like; anything else is a finding. */
function problemWith(req: FuzzRequest, answer: Exchange): string | undefined {
  if (/\n\s+at \S|\bat [\w.<>]+ \(.*:\d+:\d+\)/.test(answer.body)) return "a stack trace in the body";
  if (answer.status < 400 || req.method === "HEAD") return undefined;
  if (!answer.contentType.startsWith("application/json")) return `a ${answer.status} that is not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `a ${answer.status} whose body is not JSON`;
  }
  const record = body as Record<string, unknown>;
  // A Failed instance's status, asked for with returnInternalServerErrorOnFailure=true.
  if (answer.status === 500) return record?.runtimeStatus === "Failed" ? undefined : "a 500";
  if (answer.status > 500) return `a ${answer.status}`;
  const error = record?.error as Record<string, unknown> | undefined;
  if (
    error &&
    Object.keys(record).length === 1 &&
    typeof error.code === "string" &&
    typeof error.message === "string"
  ) {
    return undefined;
  }
  // Durable Functions' shapes: rewind's message as a JSON string; a purge by filter that matched nothing.
  if (typeof body === "string" && req.path.includes("/rewind")) return undefined;
  if (answer.status === 404 && req.method === "DELETE" && record?.instancesDeleted === 0) return undefined;
  return `an unexpected ${answer.status} body`;
}

describe("fuzzing the HTTP server", () => {
  let x: HttpHarness;
  const protectedIds = [
    "prot-completed",
    "prot-failed",
    "prot-running",
    "prot-suspended",
    "prot-terminated",
    "prot-pending",
  ];
  const snapshot = async () => {
    const rows: unknown[] = [];
    for (const id of protectedIds) {
      const status = await x.h.client.getStatus(id);
      const history = status ? await x.h.client.getHistory(id) : [];
      rows.push({
        id,
        status: status?.runtimeStatus,
        updated: status?.lastUpdatedAt.getTime(),
        input: status?.input,
        output: status?.output,
        customStatus: status?.customStatus,
        historyLength: history.length,
      });
    }
    return rows;
  };

  beforeAll(async () => {
    x = await startHttpHarness({
      orchestrations: [echo, approval, fails],
      server: { bodyLimit: BODY_LIMIT, dashboard: true },
    });
    const { client } = x.h;
    await client.start(echo, { n: 1 }, { instanceId: "prot-completed" });
    await client.start(fails, null, { instanceId: "prot-failed" });
    for (const id of ["prot-running", "prot-suspended", "prot-terminated"])
      await client.start(approval, id, { instanceId: id });
    await client.start(echo, "later", { instanceId: "prot-pending", startAt: new Date(Date.UTC(2100, 0, 1)) });
    await client.waitForCompletion("prot-completed", { timeout: 15_000 });
    await client.waitForCompletion("prot-failed", { timeout: 15_000 });
    for (const id of ["prot-running", "prot-suspended", "prot-terminated"]) {
      await waitFor(async () => (await client.getStatus(id))?.customStatus === "waiting", `${id} to wait`);
    }
    await client.suspend("prot-suspended");
    await client.terminate("prot-terminated", "stopped");
  });
  afterAll(async () => {
    await x?.dispose();
  });

  it(`answers ${REQUESTS} random requests without crashing, 5xx, stack traces or changes to stored instances`, async () => {
    const before = await snapshot();
    expect(before.map((row) => (row as { status: string }).status)).toEqual([
      "Completed",
      "Failed",
      "Running",
      "Suspended",
      "Terminated",
      "Pending",
    ]);
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = fuzzRequests({
      random: seededRandom(seed),
      prefix: MANAGEMENT_PREFIX,
      protectedIds,
      protectedPrefix: "prot-",
      purgeFloor: new Date(Date.now() + 1),
    });
    const port = Number(new URL(x.base).port);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const findings: string[] = [];
    const statuses = new Map<number, number>();
    let sent = 0;
    const deadline = Date.now() + DEADLINE_MS;
    const lane = async () => {
      while (sent < REQUESTS && Date.now() < deadline) {
        sent++;
        const req = next();
        let answer = await send(agent, port, req);
        const where = `${req.method} ${req.path.slice(0, 200)} (seed ${seed})`;
        // A body over the limit may be cut off by the server before it is all sent, and a
        // kept-alive socket the server just closed fails the request sent on it: such a
        // request is sent again on a connection of its own.
        if ("error" in answer && (req.body?.length ?? 0) <= BODY_LIMIT) answer = await send(false, port, req);
        if ("error" in answer) {
          if ((req.body?.length ?? 0) <= BODY_LIMIT) findings.push(`${where}: ${answer.error.message}`);
          continue;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const problem = problemWith(req, answer);
        if (problem) findings.push(`${where}: ${problem}: ${answer.body.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    agent.destroy();

    expect(findings.slice(0, 20)).toEqual([]);
    expect(sent).toBeGreaterThan(0);
    // Still up, and no unexpected error was logged.
    expect((await fetch(`${x.base}/healthz`)).status).toBe(200);
    expect(x.errors()).toEqual([]);
    expect(await snapshot()).toEqual(before);
    // The run reached the routes, not just the 404 handler.
    for (const status of [200, 202, 400, 404]) expect(statuses.get(status) ?? 0, `${status}s`).toBeGreaterThan(0);
  }, 240_000);
});
