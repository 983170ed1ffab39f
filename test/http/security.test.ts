import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpServer,
  type HttpManagementPayload,
  isLoopbackHost,
  MANAGEMENT_PREFIX,
  perdureManagementPlugin,
} from "../../src/http/index.js";
import { type Client, InvalidArgumentError, orchestration } from "../../src/index.js";
import { capturingLogger } from "../helpers/capturingLogger.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { call, errorCode } from "./call.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

const KEY = "k3y-for-tests-0123456789abcdef";
const waitsForEvent = orchestration("waitsForEvent", async (ctx) => ctx.waitForEvent<string>("go"));
const echo = orchestration("echo", async (_ctx, input: unknown) => input);

describe("API key", () => {
  let x: HttpHarness;
  afterEach(async () => {
    await x.dispose();
  });

  it("is required on loopback too once configured: header x-functions-key or query code, nothing else", async () => {
    x = await startHttpHarness({ orchestrations: [waitsForEvent], server: { apiKey: KEY } });
    const none = await call(`${x.api}/instances`);
    expect(none.status).toBe(401);
    expect(errorCode(none)).toBe("UNAUTHORIZED");
    expect((await call(`${x.api}/instances`, { headers: { "x-functions-key": KEY } })).status).toBe(200);
    expect((await call(`${x.api}/instances?code=${KEY}`)).status).toBe(200);
    for (const wrong of [`${KEY.slice(0, -1)}x`, "short", `${KEY}${KEY}`, ""]) {
      expect((await call(`${x.api}/instances`, { headers: { "x-functions-key": wrong } })).status).toBe(401);
      expect((await call(`${x.api}/instances?code=${encodeURIComponent(wrong)}`)).status).toBe(401);
    }
    expect((await call(`${x.api}/instances`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(401);
    // Nothing is started, stopped or purged without the key.
    expect((await call(`${x.api}/orchestrators/waitsForEvent/k-0`, { method: "POST" })).status).toBe(401);
    expect((await call(`${x.api}/instances?createdTimeFrom=2000-01-01`, { method: "DELETE" })).status).toBe(401);
    expect(await x.h.client.getStatus("k-0")).toBeUndefined();
    // The health check needs no key and tells nothing.
    const health = await call(`${x.base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: "ok" });
  });

  it("check-status links carry code= and work as they are", async () => {
    x = await startHttpHarness({ orchestrations: [waitsForEvent], server: { apiKey: KEY } });
    const started = await call(`${x.api}/orchestrators/waitsForEvent/k-1`, {
      method: "POST",
      headers: { "x-functions-key": KEY },
    });
    expect(started.status).toBe(202);
    const links = started.json as HttpManagementPayload;
    expect(links.statusQueryGetUri).toBe(`${x.api}/instances/k-1?code=${KEY}`);
    expect(links.terminatePostUri).toBe(`${x.api}/instances/k-1/terminate?reason={text}&code=${KEY}`);
    expect(started.headers.get("location")).toBe(links.statusQueryGetUri);
    expect([200, 202]).toContain((await call(links.statusQueryGetUri)).status);
    const sent = await call(links.sendEventPostUri.replace("{eventName}", "go"), { method: "POST", body: "now" });
    expect(sent.status).toBe(202);
    const done = await x.h.client.waitForCompletion("k-1", { timeout: 15_000 });
    expect(done.output).toBe("now");
    expect((await call(links.purgeHistoryDeleteUri, { method: "DELETE" })).json).toEqual({ instancesDeleted: 1 });
  });
});

describe("binding", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("refuses a non-loopback host without a key, with a typed error; accepts it with one", async () => {
    h = createHarness();
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      const attempt = () => createHttpServer({ client: h.client, host });
      expect(attempt).toThrow(InvalidArgumentError);
      const server = createHttpServer({ client: h.client, host, apiKey: KEY });
      await server.close();
    }
    for (const host of ["127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]"]) {
      const server = createHttpServer({ client: h.client, host });
      await server.close();
    }
    expect(() => createHttpServer({ client: h.client, apiKey: "too-short" })).toThrow(InvalidArgumentError);
    expect(() => createHttpServer({ client: h.client, bodyLimit: -1 })).toThrow(InvalidArgumentError);
    expect(() => createHttpServer({ client: h.client, port: 70_000 })).toThrow(InvalidArgumentError);
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });

  it("binds to 127.0.0.1 by default", async () => {
    h = createHarness();
    const server = createHttpServer({ client: h.client, port: 0 });
    const base = await server.listen();
    expect(new URL(base).hostname).toBe("127.0.0.1");
    await server.close();
  });
});

describe("errors never show internals", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("an unexpected failure is a 500 with a fixed body, and is logged", async () => {
    h = createHarness();
    // A client whose list fails in a way the API does not know about.
    const faulty = Object.create(h.client) as Client;
    faulty.list = async () => {
      throw new Error("boom: secret internals");
    };
    const logger = capturingLogger();
    const server = createHttpServer({ client: faulty, port: 0, logger });
    const answer = await server.app.inject({ method: "GET", url: `${MANAGEMENT_PREFIX}/instances` });
    expect(answer.statusCode).toBe(500);
    expect(answer.body).toBe('{"error":{"code":"INTERNAL","message":"internal error"}}');
    expect(logger.messages("error")).toHaveLength(1);
    await server.close();
  });

  it("recorded stack traces stay out of the JSON unless showFailureStacks is set", async () => {
    const fails = orchestration("fails", async () => {
      throw new RangeError("no good");
    });
    h = createHarness();
    await h.startWorker({ orchestrations: [fails] });
    await h.client.start(fails, null, { instanceId: "f-1" });
    await h.client.waitForCompletion("f-1", { timeout: 15_000 });
    const url = `${MANAGEMENT_PREFIX}/instances/f-1?showHistory=true`;
    const hidden = createHttpServer({ client: h.client, port: 0 });
    const plain = await hidden.app.inject({ method: "GET", url });
    expect(plain.json()).toMatchObject({ failureDetails: { errorType: "RangeError", errorMessage: "no good" } });
    expect(plain.body).not.toContain("stackTrace");
    expect(plain.body).not.toContain("StackTrace");
    expect(plain.body).not.toMatch(/\bat .*:\d+:\d+/);
    await hidden.close();
    const shown = createHttpServer({ client: h.client, port: 0, showFailureStacks: true });
    const detailed = (await shown.app.inject({ method: "GET", url })).json() as {
      failureDetails: { stackTrace: string };
      historyEvents: { FailureDetails?: { StackTrace?: string } }[];
    };
    expect(detailed.failureDetails.stackTrace).toContain("RangeError: no good");
    expect(detailed.historyEvents.at(-1)?.FailureDetails?.StackTrace).toContain("RangeError: no good");
    await shown.close();
  });

  it("the default body limit is 1 MiB; bodies may nest 64 levels", async () => {
    h = createHarness();
    const server = createHttpServer({ client: h.client, orchestrations: [echo], port: 0 });
    const post = (size: number) =>
      server.app.inject({
        method: "POST",
        url: `${MANAGEMENT_PREFIX}/orchestrators/echo`,
        headers: { "content-type": "application/json" },
        payload: JSON.stringify("x".repeat(size)),
      });
    expect((await post(1024 * 1024 + 1)).statusCode).toBe(413);
    expect((await post(900 * 1024)).statusCode).toBe(202);
    const nested = (depth: number) =>
      server.app.inject({
        method: "POST",
        url: `${MANAGEMENT_PREFIX}/orchestrators/echo`,
        headers: { "content-type": "application/json" },
        payload: `${"[".repeat(depth)}${"]".repeat(depth)}`,
      });
    expect((await nested(64)).statusCode).toBe(202);
    const deep = await nested(5000);
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toMatchObject({ error: { code: "JSON_TOO_DEEP" } });
    await server.close();
  });
});

describe("perdureManagementPlugin in an app of one's own", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("serves the API under its prefix and leaves the rest of the app as it was", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [echo] });
    const app = Fastify({ routerOptions: { maxParamLength: 1024 } });
    app.post("/notes", async (request) => ({ echoed: request.body }));
    await app.register(perdureManagementPlugin, {
      prefix: "/ops",
      client: h.client,
      orchestrations: [echo],
      logger: capturingLogger(),
    });
    const longId = "p".repeat(256);
    const started = await app.inject({
      method: "POST",
      url: `/ops/orchestrators/echo/${longId}`,
      headers: { "content-type": "application/json", host: "ops.example:8080" },
      payload: '{"a":1}',
    });
    expect(started.statusCode).toBe(202);
    expect((started.json() as HttpManagementPayload).statusQueryGetUri).toBe(
      `http://ops.example:8080/ops/instances/${longId}`,
    );
    await h.client.waitForCompletion(longId, { timeout: 15_000 });
    expect((await app.inject({ method: "GET", url: `/ops/instances/${longId}` })).json()).toMatchObject({
      output: { a: 1 },
    });
    // The app's own text/plain route still parses text; the plugin's routes take JSON only.
    const note = await app.inject({
      method: "POST",
      url: "/notes",
      headers: { "content-type": "text/plain" },
      payload: "hi",
    });
    expect(note.json()).toEqual({ echoed: "hi" });
    const refused = await app.inject({
      method: "POST",
      url: "/ops/orchestrators/echo",
      headers: { "content-type": "text/plain" },
      payload: "hi",
    });
    expect(refused.statusCode).toBe(415);
    expect(refused.json()).toMatchObject({ error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect((await app.inject({ method: "GET", url: "/ops/nothing" })).json()).toMatchObject({
      error: { code: "NOT_FOUND" },
    });
    await app.close();
  });
});
