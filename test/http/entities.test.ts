import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { entity } from "../../src/index.js";
import { waitFor } from "../helpers/waitFor.js";
import { call, errorCode } from "./call.js";
import { type HttpHarness, startHttpHarness } from "./httpHarness.js";

const counter = entity("counter", {
  initialState: 0,
  operations: {
    add: (n, amount: number, ctx) => ctx.setState(n + amount),
    reset: (_n, _input: undefined, ctx) => ctx.deleteState(),
  },
});

let t: HttpHarness;
beforeAll(async () => {
  t = await startHttpHarness({ orchestrations: [], startWorker: false });
  await t.h.startWorker({ entities: [counter] });
});
afterAll(async () => {
  expect(t.errors()).toEqual([]);
  await t.dispose();
});

describe("entity routes", () => {
  it("POST /entities/{name}/{key}?op= signals the entity with the body as input: 202", async () => {
    const answer = await call(`${t.api}/entities/counter/a?op=add`, { method: "POST", body: 5 });
    expect(answer.status).toBe(202);
    expect(answer.text).toBe("");
    await waitFor(async () => (await t.h.client.getEntity(counter, "a")).state === 5, "the signal");
    const state = await call(`${t.api}/entities/counter/a`);
    expect(state.status).toBe(200);
    expect(state.json).toBe(5);
  });

  it("GET /entities/{name}/{key} is 404 for an entity without state", async () => {
    const answer = await call(`${t.api}/entities/counter/never`);
    expect(answer.status).toBe(404);
    expect(errorCode(answer)).toBe("ENTITY_NOT_FOUND");
    await call(`${t.api}/entities/counter/gone?op=add`, { method: "POST", body: 1 });
    await call(`${t.api}/entities/counter/gone?op=reset`, { method: "POST" });
    await waitFor(
      async () => (await t.h.store.getEntity("counter", "gone"))?.lastModified !== undefined,
      "both signals",
    );
    expect((await call(`${t.api}/entities/counter/gone`)).status).toBe(404);
  });

  it("scheduledTime delays the signal", async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const answer = await call(`${t.api}/entities/counter/later?op=add&scheduledTime=${later}`, {
      method: "POST",
      body: 1,
    });
    expect(answer.status).toBe(202);
    const [snapshot] = await t.h.store.readEntities([{ name: "counter", key: "later" }], Date.now() + 3_600_001, 10);
    expect(snapshot?.messages.map((m) => m.visibleAt)).toEqual([Date.parse(later)]);
    expect((await call(`${t.api}/entities/counter/later`)).status).toBe(404);
  });

  it("GET /entities[/{name}] lists entities with state, paged by the continuation header", async () => {
    for (const key of ["p1", "p2", "p3"]) await t.h.client.signalEntity(counter, key, "add", 1);
    await waitFor(async () => (await t.h.client.getEntity(counter, "p3")).state === 1, "p3");
    await waitFor(async () => (await t.h.client.getEntity(counter, "p1")).state === 1, "p1");
    const first = await call(`${t.api}/entities/counter?keyPrefix=p&top=2&fetchState=true`);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject([
      { entityId: { name: "counter", key: "p1" }, state: 1 },
      { entityId: { name: "counter", key: "p2" }, state: 1 },
    ]);
    const token = first.headers.get("x-ms-continuation-token");
    expect(token).toBeTruthy();
    const second = await call(`${t.api}/entities/counter?keyPrefix=p&top=2`, {
      headers: { "x-ms-continuation-token": token as string },
    });
    expect(second.json).toEqual([{ entityId: { name: "counter", key: "p3" }, lastOperationTime: expect.any(String) }]);
    expect(second.headers.get("x-ms-continuation-token")).toBeNull();
    const all = (await call(`${t.api}/entities`)).json as { entityId: { key: string } }[];
    expect(all.map((e) => e.entityId.key)).toEqual(expect.arrayContaining(["a", "p1", "p2", "p3"]));
  });

  it("GET /entities/{name}/{key}?details=true: state, lock, pending count and recent operations", async () => {
    await call(`${t.api}/entities/counter/d?op=add`, { method: "POST", body: 2 });
    await call(`${t.api}/entities/counter/d?op=nope`, { method: "POST", body: { why: "<b>" } });
    await waitFor(async () => (await t.h.client.getEntityOperations(counter, "d")).operations.length === 2, "both");
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await call(`${t.api}/entities/counter/d?op=add&scheduledTime=${later}`, { method: "POST", body: 1 });
    const answer = await call(`${t.api}/entities/counter/d?details=True`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      entityId: { name: "counter", key: "d" },
      exists: true,
      state: 2,
      lastOperationTime: expect.any(String),
      lockedBy: null,
      pendingOperations: 1,
      recentOperations: [
        {
          kind: "signal",
          operation: "nope",
          sender: { kind: "client" },
          appliedTime: expect.any(String),
          ok: false,
          error: { name: "UnknownEntityOperationError", message: expect.stringContaining('"nope"') },
          inputPreview: '{"why":"<b>"}',
        },
        {
          kind: "signal",
          operation: "add",
          sender: { kind: "client" },
          appliedTime: expect.any(String),
          ok: true,
          inputPreview: "2",
        },
      ],
    });
    // Without state but with a log, details still answer; with nothing known, 404.
    await call(`${t.api}/entities/counter/d?op=reset`, { method: "POST" });
    await waitFor(async () => (await t.h.client.getEntity(counter, "d")).exists === false, "the reset");
    expect((await call(`${t.api}/entities/counter/d`)).status).toBe(404);
    expect((await call(`${t.api}/entities/counter/d?details=true`)).json).toMatchObject({ exists: false, state: null });
    const unknown = await call(`${t.api}/entities/counter/nobody?details=true`);
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe("ENTITY_NOT_FOUND");
  });

  it("refuses bad requests with 400", async () => {
    const badDetails = await call(`${t.api}/entities/counter/a?details=yes`);
    expect(badDetails.status).toBe(400);
    expect(errorCode(badDetails)).toBe("INVALID_REQUEST");
    expect((await call(`${t.api}/entities/counter/a`, { method: "POST", body: 1 })).status).toBe(400);
    const notJson = await call(`${t.api}/entities/counter/a?op=add&scheduledTime=soon`, { method: "POST", body: 1 });
    expect(errorCode(notJson)).toBe("INVALID_ARGUMENT");
    const badToken = await call(`${t.api}/entities/counter`, { headers: { "x-ms-continuation-token": "nope" } });
    expect(badToken.status).toBe(400);
  });
});
