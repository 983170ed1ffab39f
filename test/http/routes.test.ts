import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpManagementPayload, StatusJson } from "../../src/http/index.js";
import { activity, orchestration } from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";
import { type Answer, call, errorCode } from "./call.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

const greet = activity("greet", async (name: string) => `Hello, ${name}!`);
const approval = orchestration("approval", async (ctx, name: string) => {
  const greeting = await ctx.callActivity(greet, name);
  ctx.setCustomStatus("waiting");
  const approved = await ctx.waitForEvent<boolean>("approve");
  return { greeting, approved };
});
const double = orchestration("double", async (_ctx, n: number) => n * 2);
const echo = orchestration("echo", async (_ctx, input: unknown) => ({ got: input ?? "nothing" }));
const fails = orchestration("fails", async (_ctx, message: string) => {
  throw new TypeError(message);
});

describe("management API routes: status codes, headers, JSON", () => {
  let x: HttpHarness;
  const json = <T>(answer: Answer) => answer.json as T;
  const start = (name: string, input?: unknown, id?: string, query = "") =>
    call(`${x.api}/orchestrators/${name}${id === undefined ? "" : `/${encodeURIComponent(id)}`}${query}`, {
      method: "POST",
      ...(input === undefined ? {} : { body: input }),
    });
  const post = (path: string, init: Parameters<typeof call>[1] = {}) =>
    call(`${x.api}${path}`, { method: "POST", ...init });
  const status = (id: string, query = "") => call(`${x.api}/instances/${encodeURIComponent(id)}${query}`);
  const waitForRuntimeStatus = (id: string, runtimeStatus: string) =>
    waitFor(async () => {
      const answer = await status(id);
      return json<StatusJson>(answer).runtimeStatus === runtimeStatus && answer;
    }, `${id} to be ${runtimeStatus}`);
  const waiting = (id: string) =>
    waitFor(async () => json<StatusJson>(await status(id)).customStatus === "waiting", `${id} to wait`);

  beforeAll(async () => {
    x = await startHttpHarness({
      orchestrations: [approval, double, echo, fails],
      activities: [greet],
      server: { bodyLimit: 4096 },
    });
  });
  afterAll(async () => {
    expect(x.errors()).toEqual([]);
    await x.dispose();
  });

  it("POST /orchestrators/{name}: 202, Location, Retry-After and the check-status payload of absolute links", async () => {
    const answer = await start("approval", "Ada", "r-1");
    expect(answer.status).toBe(202);
    const payload = json<HttpManagementPayload>(answer);
    const instance = `${x.api}/instances/r-1`;
    expect(payload).toEqual({
      id: "r-1",
      statusQueryGetUri: instance,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}`,
      terminatePostUri: `${instance}/terminate?reason={text}`,
      purgeHistoryDeleteUri: instance,
      restartPostUri: `${instance}/restart`,
      suspendPostUri: `${instance}/suspend?reason={text}`,
      resumePostUri: `${instance}/resume?reason={text}`,
      rewindPostUri: `${instance}/rewind?reason={text}`,
    });
    expect(answer.headers.get("location")).toBe(instance);
    expect(answer.headers.get("retry-after")).toBe("10");
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);

    const generated = await start("double", 4);
    expect(generated.status).toBe(202);
    expect(json<HttpManagementPayload>(generated).id).toMatch(/^[0-9a-f-]{36}$/);
    // No body at all is no input.
    const noInput = await call(`${x.api}/orchestrators/echo`, { method: "POST" });
    expect(noInput.status).toBe(202);
    const noInputStatus = await waitForRuntimeStatus(json<HttpManagementPayload>(noInput).id, "Completed");
    expect(json<StatusJson>(noInputStatus)).toMatchObject({ input: null, output: { got: "nothing" } });
  });

  it("POST /orchestrators: 409 for an active id, a new run for a finished one, 400 for a bad id, 404 for an unknown name", async () => {
    expect((await start("approval", "again", "r-1")).status).toBe(409);
    expect(errorCode(await start("approval", "again", "r-1"))).toBe("INSTANCE_ALREADY_EXISTS");
    const first = await start("double", 1, "r-2");
    await waitForRuntimeStatus("r-2", "Completed");
    expect(first.status).toBe(202);
    expect((await start("double", 50, "r-2")).status).toBe(202);
    expect(json<StatusJson>(await waitForRuntimeStatus("r-2", "Completed")).output).toBe(100);

    const badId = await start("double", 1, "a#b");
    expect(badId.status).toBe(400);
    expect(errorCode(badId)).toBe("INVALID_INSTANCE_ID");
    const unknown = await start("nope", 1);
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe("UNKNOWN_ORCHESTRATION");
    const message = (unknown.json as { error: { message: string } }).error.message;
    for (const name of ["approval", "double", "echo", "fails"]) expect(message).toContain(`"${name}"`);
    // A number JSON cannot hold again (1e400 parses as Infinity) is refused, not stored.
    const infinite = await call(`${x.api}/orchestrators/double`, {
      method: "POST",
      body: "1e400",
      headers: { "content-type": "application/json" },
    });
    expect(infinite.status).toBe(400);
    expect(errorCode(infinite)).toBe("NOT_SERIALIZABLE");
  });

  it("POST /orchestrators with timeout: 200 with the output, the status of a failure (500 when asked), else 202", async () => {
    const done = await start("double", 21, "w-1", "?timeout=30&pollingInterval=1");
    expect(done.status).toBe(200);
    expect(done.json).toBe(42);

    const failed = await start("fails", "bad input", "w-2", "?timeout=30&pollingInterval=1");
    expect(failed.status).toBe(200);
    expect(json<StatusJson>(failed)).toMatchObject({ instanceId: "w-2", runtimeStatus: "Failed", output: "bad input" });
    const failed500 = await start("fails", "worse", "w-3", "?timeout=30&returnInternalServerErrorOnFailure=true");
    expect(failed500.status).toBe(500);
    expect(json<StatusJson>(failed500).failureDetails).toMatchObject({ errorType: "TypeError", errorMessage: "worse" });

    const slow = await start("approval", "Grace", "w-4", "?timeout=0.2&pollingInterval=0.05");
    expect(slow.status).toBe(202);
    expect(json<HttpManagementPayload>(slow).id).toBe("w-4");
    for (const query of ["?timeout=-1", "?timeout=abc", "?timeout=3601", "?pollingInterval=x"]) {
      const bad = await start("double", 1, undefined, query);
      expect(bad.status).toBe(400);
      expect(errorCode(bad)).toBe("INVALID_REQUEST");
    }
  });

  it("GET /instances/{id}: 202 with Location and Retry-After while active, 200 when finished, 500 for a failure when asked, 404 unknown", async () => {
    await waiting("r-1");
    const active = await status("r-1", "?showInput=true");
    expect(active.status).toBe(202);
    expect(active.headers.get("location")).toBe(`${x.api}/instances/r-1?showInput=true`);
    expect(active.headers.get("retry-after")).toBe("5");
    const body = json<StatusJson>(active);
    expect(body).toEqual({
      name: "approval",
      instanceId: "r-1",
      runtimeStatus: "Running",
      input: "Ada",
      customStatus: "waiting",
      output: null,
      createdTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      lastUpdatedTime: expect.stringMatching(/Z$/),
    });
    expect(json<StatusJson>(await status("r-1", "?showInput=False")).input).toBeNull();

    const completed = await status("w-1");
    expect(completed.status).toBe(200);
    expect(completed.headers.get("location")).toBeNull();
    expect(json<StatusJson>(completed).output).toBe(42);

    expect((await status("w-2")).status).toBe(200);
    const failed = await status("w-2", "?returnInternalServerErrorOnFailure=true");
    expect(failed.status).toBe(500);
    expect(json<StatusJson>(failed)).toMatchObject({ runtimeStatus: "Failed", output: "bad input" });

    const unknown = await status("nobody");
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe("INSTANCE_NOT_FOUND");
    for (const query of ["?showHistory=yes", "?showInput=1", "?returnInternalServerErrorOnFailure="]) {
      expect(errorCode(await status("r-1", query))).toBe("INVALID_REQUEST");
    }
    expect(errorCode(await status("a\u0001b"))).toBe("INVALID_INSTANCE_ID");
  });

  it("GET /instances: filters, and paging with x-ms-continuation-token both ways", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const from = new Date().toISOString();
    for (let i = 0; i < 7; i++) await start("double", i, `page-${i}`);
    for (let i = 0; i < 7; i++) await waitForRuntimeStatus(`page-${i}`, "Completed");
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const answer: Answer = await call(`${x.api}/instances?top=3&instanceIdPrefix=page-&createdTimeFrom=${from}`, {
        headers: token ? { "x-ms-continuation-token": token } : {},
      });
      expect(answer.status).toBe(200);
      seen.push(...json<StatusJson[]>(answer).map((s) => s.instanceId));
      token = answer.headers.get("x-ms-continuation-token");
      pages++;
    } while (token);
    expect(seen).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4", "page-5", "page-6"]);
    expect(pages).toBe(3);

    const running = await call(`${x.api}/instances/?runtimeStatus=Running,Pending&showInput=false`);
    const runningIds = json<StatusJson[]>(running).map((s) => s.instanceId);
    expect(runningIds).toContain("r-1");
    expect(runningIds).not.toContain("page-0");
    expect(json<StatusJson[]>(running).every((s) => s.input === null)).toBe(true);
    expect(json<StatusJson[]>(await call(`${x.api}/instances?runtimeStatus=Canceled`))).toEqual([]);
    const before = json<StatusJson[]>(await call(`${x.api}/instances?createdTimeTo=${from}&instanceIdPrefix=page-`));
    expect(before).toEqual([]);
    const byName = json<StatusJson[]>(await call(`${x.api}/instances?name=fails`));
    expect(byName.map((s) => s.instanceId).sort()).toEqual(["w-2", "w-3"]);
  });

  it("GET /instances: 400 for a negative, zero or non-integer top, a bad token, status or time", async () => {
    for (const top of ["-1", "0", "abc", "1.5", ""]) {
      const answer = await call(`${x.api}/instances?top=${top}`);
      expect(answer.status).toBe(400);
      expect(errorCode(answer)).toBe("INVALID_REQUEST");
    }
    for (const token of ["garbage", "W10", "x".repeat(3000)]) {
      const answer = await call(`${x.api}/instances`, { headers: { "x-ms-continuation-token": token } });
      expect(answer.status).toBe(400);
      expect(errorCode(answer)).toBe("INVALID_ARGUMENT");
    }
    for (const query of [
      "runtimeStatus=Running,Bogus",
      "createdTimeFrom=yesterday",
      "createdTimeTo=2030-13-45T99:00:00Z",
    ]) {
      const answer = await call(`${x.api}/instances?${query}`);
      expect(answer.status).toBe(400);
      expect(errorCode(answer)).toBe("INVALID_ARGUMENT");
    }
  });

  it("POST /instances/{id}/…: 202, 404 unknown, 410 when the status forbids it, 412 to rewind what has not failed", async () => {
    for (const action of ["terminate", "suspend", "resume", "rewind", "restart", "raiseEvent/go"]) {
      const answer = await post(`/instances/nobody/${action}`);
      expect(answer.status, action).toBe(404);
    }
    await start("approval", "Linus", "a-1");
    await waiting("a-1");
    expect((await post("/instances/a-1/resume")).status).toBe(410);
    expect((await post("/instances/a-1/suspend?reason=pause")).status).toBe(202);
    const twice = await post("/instances/a-1/suspend");
    expect(twice.status).toBe(410);
    expect(errorCode(twice)).toBe("INVALID_INSTANCE_STATE");
    expect((await post("/instances/a-1/rewind")).status).toBe(412);
    expect((await post("/instances/a-1/resume?reason=go%20on")).status).toBe(202);
    expect((await post("/instances/a-1/raiseEvent/approve", { body: true })).status).toBe(202);
    await waitForRuntimeStatus("a-1", "Completed");
    for (const action of ["terminate", "suspend", "resume", "raiseEvent/approve"]) {
      const answer = await post(`/instances/a-1/${action}`);
      expect(answer.status, action).toBe(410);
      expect(errorCode(answer), action).toBe("INSTANCE_NOT_ACTIVE");
    }
    const history = json<StatusJson>(await status("a-1", "?showHistory=true")).historyEvents ?? [];
    expect(history.filter((e) => e.EventType.startsWith("Execution")).map((e) => [e.EventType, e.Reason])).toEqual([
      ["ExecutionStarted", undefined],
      ["ExecutionSuspended", "pause"],
      ["ExecutionResumed", "go on"],
      ["ExecutionCompleted", undefined],
    ]);
  });

  it("POST raiseEvent: 400 for malformed JSON, 415 for another content type, 413 beyond the body limit", async () => {
    await start("approval", "Barbara", "e-1");
    const malformed = await post("/instances/e-1/raiseEvent/approve", {
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(errorCode(malformed)).toBe("INVALID_JSON");
    const text = await post("/instances/e-1/raiseEvent/approve", {
      body: "yes",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expect(errorCode(text)).toBe("UNSUPPORTED_MEDIA_TYPE");
    const bytes = await post("/instances/e-1/raiseEvent/approve", { body: new Uint8Array([1, 2, 3]) });
    expect(bytes.status).toBe(415);
    const huge = await post("/instances/e-1/raiseEvent/approve", { body: { blob: "x".repeat(5000) } });
    expect(huge.status).toBe(413);
    expect(errorCode(huge)).toBe("PAYLOAD_TOO_LARGE");
    expect(json<StatusJson>(await status("e-1")).runtimeStatus).not.toBe("Completed");
    await post("/instances/e-1/terminate");
  });

  it("POST restart: the check-status response of the new run; 409 for an active instance under its own id", async () => {
    const restarted = await post("/instances/w-1/restart");
    expect(restarted.status).toBe(202);
    const id = json<HttpManagementPayload>(restarted).id;
    expect(id).not.toBe("w-1");
    expect(json<StatusJson>(await waitForRuntimeStatus(id, "Completed"))).toMatchObject({ input: 21, output: 42 });
    const sameId = await post("/instances/w-1/restart?restartWithNewInstanceId=false&timeout=30");
    expect(sameId.status).toBe(200);
    expect(sameId.json).toBe(42);
    await start("approval", "Tony", "rs-1");
    const conflict = await post("/instances/rs-1/restart?restartWithNewInstanceId=false");
    expect(conflict.status).toBe(409);
    await post("/instances/rs-1/terminate");
  });

  it("DELETE /instances/{id} and by filter: {instancesDeleted}, 404 unknown, 412 for an active instance", async () => {
    const one = await call(`${x.api}/instances/r-2`, { method: "DELETE" });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ instancesDeleted: 1 });
    expect((await status("r-2")).status).toBe(404);
    expect((await call(`${x.api}/instances/r-2`, { method: "DELETE" })).status).toBe(404);
    const active = await call(`${x.api}/instances/r-1`, { method: "DELETE" });
    expect(active.status).toBe(412);
    expect(errorCode(active)).toBe("INVALID_INSTANCE_STATE");

    const noFrom = await call(`${x.api}/instances`, { method: "DELETE" });
    expect(noFrom.status).toBe(400);
    const from = "2000-01-01T00:00:00Z";
    const purged = await call(`${x.api}/instances/?createdTimeFrom=${from}&runtimeStatus=Completed`, {
      method: "DELETE",
    });
    expect(purged.status).toBe(200);
    expect((purged.json as { instancesDeleted: number }).instancesDeleted).toBeGreaterThanOrEqual(7);
    expect(json<StatusJson[]>(await call(`${x.api}/instances?runtimeStatus=Completed`))).toEqual([]);
    expect((await status("r-1")).status).toBe(202);
    const none = await call(`${x.api}/instances?createdTimeFrom=${from}&runtimeStatus=Completed`, { method: "DELETE" });
    expect(none.status).toBe(404);
    expect(none.json).toEqual({ instancesDeleted: 0 });
  });

  it("unknown routes and methods: 404 JSON", async () => {
    for (const [method, path] of [
      ["GET", `${x.api}/nothing`],
      ["PUT", `${x.api}/instances/r-1`],
      ["GET", `${x.api}/instances/r-1/terminate`],
      ["POST", `${x.api}/instances/r-1/explode`],
      ["GET", `${x.base}/no/such/page`],
    ] as const) {
      const answer = await call(path, { method });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(errorCode(answer)).toBe("NOT_FOUND");
    }
    const badEncoding = await call(`${x.api}/instances/%E0%A4%A`);
    expect(badEncoding.status).toBe(400);
    expect(errorCode(badEncoding)).toBe("INVALID_URL");
  });
});
