import { afterEach, describe, expect, it } from "vitest";
import {
  createCheckStatusResponse,
  type HttpManagementPayload,
  requestOrigin,
  waitForCompletionOrCreateCheckStatusResponse,
} from "../../src/http/index.js";
import { InstanceNotFoundError, InvalidArgumentError, orchestration } from "../../src/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const double = orchestration("double", async (_ctx, n: number) => n * 2);
const waits = orchestration("waits", async (ctx) => ctx.waitForEvent<string>("go"));
const fails = orchestration("fails", async () => {
  throw new Error("nope");
});

/** The helpers for user code: the async HTTP API pattern in an app's own routes. */
describe("createCheckStatusResponse and waitForCompletionOrCreateCheckStatusResponse", () => {
  let h: Harness;
  afterEach(async () => {
    await h.dispose();
  });

  it("builds links from the request's origin: a fetch Request, or a path with a Host header", () => {
    h = createHarness();
    expect(requestOrigin(new Request("https://api.example.com:8443/start?x=1"))).toBe("https://api.example.com:8443");
    expect(requestOrigin({ url: "/start", headers: { host: "localhost:7071" } })).toBe("http://localhost:7071");
    expect(requestOrigin({ url: "/start", headers: { host: "shop.example" }, protocol: "https" })).toBe(
      "https://shop.example",
    );
    // A Host header that is not a host name is not put into links.
    expect(requestOrigin({ url: "/start", headers: { host: "evil.example/<script>" } })).toBe("http://localhost");

    const response = createCheckStatusResponse({ url: "/orders", headers: { host: "shop.example" } }, "order 7/a", {
      apiKey: "key&with=chars-0123",
      routePrefix: "/ops/",
    });
    expect(response.status).toBe(202);
    const body = response.body as HttpManagementPayload;
    const instance = "http://shop.example/ops/instances/order%207%2Fa";
    expect(body.statusQueryGetUri).toBe(`${instance}?code=key%26with%3Dchars-0123`);
    expect(body.suspendPostUri).toBe(`${instance}/suspend?reason={text}&code=key%26with%3Dchars-0123`);
    expect(response.headers).toEqual({
      "Content-Type": "application/json",
      Location: body.statusQueryGetUri,
      "Retry-After": "10",
    });
  });

  it("answers 200 with the output, the status of a failure (500 when asked), or 202 when time runs out", async () => {
    h = createHarness();
    await h.startWorker({ orchestrations: [double, waits, fails] });
    const request = new Request("http://127.0.0.1:7071/api/run");
    const quick = await h.client.start(double, 8);
    const done = await waitForCompletionOrCreateCheckStatusResponse(h.client, request, quick, { timeout: "30s" });
    expect(done).toMatchObject({ status: 200, body: 16 });

    const failing = await h.client.start(fails, null);
    const failed = await waitForCompletionOrCreateCheckStatusResponse(h.client, request, failing, { timeout: "30s" });
    expect(failed).toMatchObject({ status: 200, body: { runtimeStatus: "Failed", output: "nope" } });
    const failed500 = await waitForCompletionOrCreateCheckStatusResponse(h.client, request, failing, {
      timeout: "30s",
      returnInternalServerErrorOnFailure: true,
    });
    expect(failed500.status).toBe(500);

    const slow = await h.client.start(waits, undefined, { instanceId: "slow" });
    const pending = await waitForCompletionOrCreateCheckStatusResponse(h.client, request, slow, {
      timeout: 100,
      retryInterval: 10,
    });
    expect(pending.status).toBe(202);
    expect((pending.body as HttpManagementPayload).statusQueryGetUri).toBe(
      "http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/slow",
    );

    await expect(
      waitForCompletionOrCreateCheckStatusResponse(h.client, request, slow, { timeout: 10, retryInterval: 20 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(waitForCompletionOrCreateCheckStatusResponse(h.client, request, "nobody")).rejects.toBeInstanceOf(
      InstanceNotFoundError,
    );
  });
});
