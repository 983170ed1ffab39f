import { HttpRequest, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpManagementPayload, httpManagementPayload } from "../../src/http/index.js";
import { activity, orchestration } from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

/*
 * The official Durable Functions client (durable-functions v3), unmodified, driving Perdure's
 * server. It is built outside the Functions host the way the host builds it: a context whose
 * durable client input yields the binding data, with `rpcBaseUrl` pointing at our API and
 * `managementUrls` holding the link templates (placeholder id "INSTANCEID") the host supplies.
 */

const greet = activity("greet", async (name: string) => `Hello, ${name}!`);
const approval = orchestration("approval", async (ctx, name: string) => {
  const greeting = await ctx.callActivity(greet, name);
  ctx.setCustomStatus({ stage: "awaiting approval" });
  const approved = await ctx.waitForEvent<boolean>("approve");
  ctx.setCustomStatus({ stage: "done" });
  return { greeting, approved };
});
const double = orchestration("double", async (_ctx, n: number) => n * 2);
let loadFails = true;
const load = activity("load", async (n: number) => {
  if (loadFails) throw new RangeError("disk full");
  return n + 1;
});
const loader = orchestration("loader", async (ctx, n: number) => ctx.callActivity(load, n));

const { Completed, Failed, Running, Suspended, Terminated } = df.OrchestrationRuntimeStatus;

describe("the official durable-functions client against Perdure's HTTP API", () => {
  let x: HttpHarness;
  let client: df.DurableClient;
  let previousHostname: string | undefined;
  /** Continuation tokens sent with list requests, in order (undefined: the first page). */
  const listTokens: (string | undefined)[] = [];

  const statusOf = (id: string) => client.getStatus(id);
  const waitForStatus = (id: string, status: df.OrchestrationRuntimeStatus) =>
    waitFor(async () => {
      const s = await statusOf(id);
      return s.runtimeStatus === status && s;
    }, `${id} to be ${status}`);
  const waitForApproval = (id: string) =>
    waitFor(async () => {
      const s = await statusOf(id);
      return (s.customStatus as { stage?: string } | null)?.stage === "awaiting approval" && s;
    }, `${id} to wait for approval`);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

  beforeAll(async () => {
    x = await startHttpHarness({
      orchestrations: [approval, double, loader],
      activities: [greet, load],
      beforeListen: (server) =>
        server.app.addHook("onRequest", async (request) => {
          if (request.method === "GET" && request.url.split("?")[0]?.endsWith("/instances/")) {
            const token = request.headers["x-ms-continuation-token"];
            listTokens.push(typeof token === "string" ? token : undefined);
          }
        }),
    });
    previousHostname = process.env.WEBSITE_HOSTNAME;
    process.env.WEBSITE_HOSTNAME = new URL(x.base).host;
    const input = df.input.durableClient();
    const context = new InvocationContext({ options: { extraInputs: [input] } });
    context.extraInputs.set(input, {
      taskHubName: "PerdureHub",
      creationUrls: {},
      managementUrls: httpManagementPayload(x.base, "INSTANCEID"),
      baseUrl: x.api,
      requiredQueryStringParameters: "",
      rpcBaseUrl: `${x.api}/`,
    });
    client = df.getClient(context);
  });

  afterAll(async () => {
    if (previousHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
    else process.env.WEBSITE_HOSTNAME = previousHostname;
    expect(x.errors()).toEqual([]);
    await x.dispose();
  });

  it("startNew with and without an instance id; getStatus; raiseEvent", async () => {
    expect(await client.startNew("approval", { instanceId: "approval-1", input: "Ada" })).toBe("approval-1");
    const generated = await client.startNew("double", { input: 21 });
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    const doubled = await waitForStatus(generated, Completed);
    expect(doubled).toMatchObject({ name: "double", instanceId: generated, input: 21, output: 42 });
    expect(doubled.createdTime).toBeInstanceOf(Date);
    expect(doubled.lastUpdatedTime.getTime()).toBeGreaterThanOrEqual(doubled.createdTime.getTime());

    const waiting = await waitForApproval("approval-1");
    expect(waiting).toMatchObject({ runtimeStatus: Running, input: "Ada", output: null });
    await client.raiseEvent("approval-1", "approve", true);
    const done = await waitForStatus("approval-1", Completed);
    expect(done.output).toEqual({ greeting: "Hello, Ada!", approved: true });
    expect(done.customStatus).toEqual({ stage: "done" });

    // What Azure does for an unknown id and an unknown orchestration: an error from the client.
    await expect(client.getStatus("nobody")).rejects.toThrow(/404/);
    await expect(client.startNew("noSuchOrchestration")).rejects.toThrow(/404/);
  });

  it("getStatus with showHistory: the JSON it receives has Durable Functions' historyEvents", async () => {
    const status = await client.getStatus("approval-1", {
      showHistory: true,
      showHistoryOutput: true,
      showInput: true,
    });
    expect(status.runtimeStatus).toBe(Completed);
    // durable-functions reads `history` where the API sends `historyEvents` (Azure/azure-functions-durable-js#620),
    // so the history is checked on the JSON itself, fetched with the same query.
    const response = await fetch(
      `${x.api}/instances/approval-1?showHistory=true&showHistoryOutput=true&showInput=true`,
    );
    const json = (await response.json()) as { historyEvents: Record<string, unknown>[] };
    expect(json.historyEvents.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskCompleted",
      "EventRaised",
      "ExecutionCompleted",
    ]);
    expect(json.historyEvents[0]).toMatchObject({ FunctionName: "approval", Input: "Ada" });
    expect(json.historyEvents[1]).toMatchObject({ FunctionName: "greet", Input: "Ada", Result: "Hello, Ada!" });
    expect(json.historyEvents[2]).toMatchObject({ Name: "approve", Input: true });
    expect(json.historyEvents[3]).toMatchObject({
      OrchestrationStatus: "Completed",
      Result: { greeting: "Hello, Ada!", approved: true },
    });
  });

  it("getStatusBy and getStatusAll: filters, and paging with x-ms-continuation-token", async () => {
    await pause();
    const from = new Date();
    const ids = Array.from({ length: 230 }, (_, i) => `bulk-${String(i).padStart(3, "0")}`);
    await Promise.all(ids.map((id, i) => x.h.client.start(double, i, { instanceId: id })));
    for (const id of ids) await x.h.client.waitForCompletion(id, { timeout: 30_000 });
    await pause();
    const to = new Date();

    listTokens.length = 0;
    const completed = (await client.getStatusBy({
      createdTimeFrom: from,
      createdTimeTo: to,
      runtimeStatus: [Completed],
    })) as unknown as { instanceId: string; output: number; createdTime: string }[];
    expect(completed.map((s) => s.instanceId).sort()).toEqual(ids);
    expect(completed.find((s) => s.instanceId === "bulk-007")?.output).toBe(14);
    // 230 instances, 100 a page: the client followed the token twice.
    expect(listTokens).toHaveLength(3);
    expect(listTokens[0]).toBeUndefined();
    expect(listTokens.slice(1).every((t) => typeof t === "string" && t.length > 0)).toBe(true);

    expect(await client.getStatusBy({ createdTimeFrom: from, createdTimeTo: to, runtimeStatus: [Running] })).toEqual(
      [],
    );
    expect(await client.getStatusBy({ createdTimeTo: from, runtimeStatus: [Completed, Running] })).not.toContainEqual(
      expect.objectContaining({ instanceId: "bulk-000" }),
    );
    const all = (await client.getStatusAll()) as unknown as { instanceId: string }[];
    expect(all.map((s) => s.instanceId)).toEqual(expect.arrayContaining([...ids, "approval-1"]));
  });

  it("suspend and resume; an event raised meanwhile waits; finished instances answer 410, which the client accepts", async () => {
    await client.startNew("approval", { instanceId: "approval-2", input: "Grace" });
    await waitForApproval("approval-2");
    await client.suspend("approval-2", "maintenance");
    expect((await statusOf("approval-2")).runtimeStatus).toBe(Suspended);
    await client.raiseEvent("approval-2", "approve", false);
    expect((await statusOf("approval-2")).runtimeStatus).toBe(Suspended);
    await client.resume("approval-2", "maintenance over");
    const done = await waitForStatus("approval-2", Completed);
    expect(done.output).toEqual({ greeting: "Hello, Grace!", approved: false });

    await expect(client.suspend("approval-2", "too late")).resolves.toBeUndefined();
    await expect(client.resume("approval-2", "too late")).resolves.toBeUndefined();
    await expect(client.raiseEvent("approval-2", "approve", true)).resolves.toBeUndefined();
    await expect(client.suspend("nobody", "x")).rejects.toThrow(/nobody/);
  });

  it("terminate with a reason", async () => {
    await client.startNew("approval", { instanceId: "approval-3", input: "Linus" });
    await waitForApproval("approval-3");
    await client.terminate("approval-3", "no longer needed");
    const terminated = await waitForStatus("approval-3", Terminated);
    expect(terminated.output).toBe("no longer needed");
    await expect(client.terminate("approval-3", "again")).resolves.toBeUndefined();
    await expect(client.terminate("nobody", "x")).rejects.toThrow(/nobody/);
  });

  it("rewind a failed instance; rewinding one that has not failed is an error, as on Azure (412)", async () => {
    loadFails = true;
    await client.startNew("loader", { instanceId: "loader-1", input: 41 });
    const failed = await waitForStatus("loader-1", Failed);
    expect(failed.output).toContain("disk full");
    // The message comes through (Durable Functions sends it as a JSON string), not "[object Object]".
    await expect(client.rewind("approval-1", "not failed")).rejects.toThrow(/approval-1/);
    loadFails = false;
    await client.rewind("loader-1", "disk cleaned");
    expect((await waitForStatus("loader-1", Completed)).output).toBe(42);
  });

  it("restart through the restartPostUri of a check-status response, with a new id or the same", async () => {
    const request = new HttpRequest({ method: "POST", url: `${x.base}/api/orders` });
    const payload = (await client.createCheckStatusResponse(request, "approval-3").json()) as HttpManagementPayload;
    const restarted = await fetch(payload.restartPostUri, { method: "POST" });
    expect(restarted.status).toBe(202);
    const fresh = (await restarted.json()) as HttpManagementPayload;
    expect(fresh.id).not.toBe("approval-3");
    expect(restarted.headers.get("location")).toBe(fresh.statusQueryGetUri);
    expect(await waitForApproval(fresh.id)).toMatchObject({ name: "approval", input: "Linus" });

    const sameId = new URL(payload.restartPostUri);
    sameId.searchParams.set("restartWithNewInstanceId", "false");
    const rerun = await fetch(sameId, { method: "POST" });
    expect(rerun.status).toBe(202);
    expect(((await rerun.json()) as HttpManagementPayload).id).toBe("approval-3");
    await waitForApproval("approval-3");
    // Restarting an active instance under its own id conflicts, as in Durable Functions.
    expect((await fetch(sameId, { method: "POST" })).status).toBe(409);
    await client.terminate("approval-3", "done");
    await client.terminate(fresh.id, "done");
  });

  it("purgeInstanceHistory and purgeInstanceHistoryBy", async () => {
    expect(await client.purgeInstanceHistory("approval-1")).toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus("approval-1")).rejects.toThrow(/404/);
    // Azure answers 404 for an unknown instance; the client turns it into 0.
    expect((await client.purgeInstanceHistory("approval-1")).instancesDeleted).toBe(0);

    await pause();
    const from = new Date();
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => client.startNew("double", { input: n })));
    for (const id of ids) await waitForStatus(id, Completed);
    await client.startNew("approval", { instanceId: "approval-5", input: "Edsger" });
    await pause();
    const to = new Date();
    const purged = await client.purgeInstanceHistoryBy({
      createdTimeFrom: from,
      createdTimeTo: to,
      runtimeStatus: [Completed],
    });
    expect(purged.instancesDeleted).toBe(5);
    const left = (await client.getStatusBy({ createdTimeFrom: from, createdTimeTo: to })) as unknown as {
      instanceId: string;
    }[];
    expect(left.map((s) => s.instanceId)).toEqual(["approval-5"]);
    expect((await client.purgeInstanceHistoryBy({ createdTimeFrom: from, createdTimeTo: to })).instancesDeleted).toBe(
      0,
    );
    await client.terminate("approval-5", "done");
  });

  it("waitForCompletionOrCreateCheckStatusResponse: the output in time, else links that work", async () => {
    const request = new HttpRequest({ method: "POST", url: `${x.base}/api/orchestrators/double` });
    const quick = await client.startNew("double", { input: 5 });
    const finished = await client.waitForCompletionOrCreateCheckStatusResponse(request, quick, {
      timeoutInMilliseconds: 30_000,
      retryIntervalInMilliseconds: 20,
    });
    expect(finished.status).toBe(200);
    expect(await finished.json()).toBe(10);

    await client.startNew("approval", { instanceId: "approval-4", input: "Barbara" });
    const pending = await client.waitForCompletionOrCreateCheckStatusResponse(request, "approval-4", {
      timeoutInMilliseconds: 200,
      retryIntervalInMilliseconds: 50,
    });
    expect(pending.status).toBe(202);
    const links = (await pending.json()) as HttpManagementPayload;
    expect(links.id).toBe("approval-4");
    expect(pending.headers.get("Location")).toBe(links.statusQueryGetUri);
    expect((await fetch(links.statusQueryGetUri)).status).toBe(202);
    await waitForApproval("approval-4");
    const sent = await fetch(links.sendEventPostUri.replace("{eventName}", "approve"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "true",
    });
    expect(sent.status).toBe(202);
    await waitForStatus("approval-4", Completed);
    const final = await fetch(links.statusQueryGetUri);
    expect(final.status).toBe(200);
    expect(((await final.json()) as { output: unknown }).output).toEqual({
      greeting: "Hello, Barbara!",
      approved: true,
    });
  });

  it("createCheckStatusResponse: the same links as Perdure's helper, and each of them works", async () => {
    const request = new HttpRequest({ method: "POST", url: `${x.base}/api/orders` });
    await client.startNew("approval", { instanceId: "approval-6", input: "Tony" });
    const theirs = client.createCheckStatusResponse(request, "approval-6");
    const ours = x.server.createCheckStatusResponse({ url: request.url, headers: {} }, "approval-6");
    expect(theirs.status).toBe(202);
    const links = (await theirs.json()) as HttpManagementPayload;
    expect(links).toEqual(ours.body);
    expect(theirs.headers.get("Location")).toBe(ours.headers.Location);

    await waitForApproval("approval-6");
    const post = (url: string) => fetch(url.replace("{text}", encodeURIComponent("by link")), { method: "POST" });
    expect((await post(links.suspendPostUri)).status).toBe(202);
    expect((await statusOf("approval-6")).runtimeStatus).toBe(Suspended);
    expect((await post(links.resumePostUri)).status).toBe(202);
    expect((await post(links.terminatePostUri)).status).toBe(202);
    expect((await waitForStatus("approval-6", Terminated)).output).toBe("by link");
    expect((await post(links.rewindPostUri)).status).toBe(412);
    const purge = await fetch(links.purgeHistoryDeleteUri, { method: "DELETE" });
    expect(purge.status).toBe(200);
    expect(await purge.json()).toEqual({ instancesDeleted: 1 });
    expect((await fetch(links.statusQueryGetUri)).status).toBe(404);
  });
});
