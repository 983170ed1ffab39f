import { type InstanceStatus, type ListOptions, orchestration } from "perdure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "../helpers/manualClock.js";
import { waitFor } from "../helpers/waitFor.js";
import { openEnv, type PatternEnv } from "./helpers/env.js";
import { rejectionOf } from "./helpers/events.js";

const MINUTE = 60_000;
const alpha = orchestration("alpha", async () => "done");
const beta = orchestration("beta", async (ctx) => ctx.waitForEvent("never"));

interface Made {
  id: string;
  name: "alpha" | "beta";
  createdAt: number;
}

/** Every page of a listing, following continuation tokens to the end. */
async function allPages(env: PatternEnv, options: ListOptions): Promise<{ pages: number; ids: string[] }> {
  const ids: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await env.client.list({ ...options, ...(token ? { continuationToken: token } : {}) });
    pages++;
    ids.push(...page.instances.map((s: InstanceStatus) => s.instanceId));
    token = page.continuationToken;
  } while (token);
  return { pages, ids };
}

describe("client.list", () => {
  const clock = manualClock();
  const made: Made[] = [];
  let env: PatternEnv;
  const t0 = clock.now();

  beforeAll(async () => {
    env = openEnv({ clock: clock.now });
    await env.startWorker({ orchestrations: [alpha, beta] });
    // 24 instances, a minute apart, two per minute (same createdAt: paging must break the tie by id).
    for (let minute = 0; minute < 12; minute++) {
      for (const [kind, name] of [
        ["order", "alpha"],
        ["user", "beta"],
      ] as const) {
        const id = `${kind}-${String(minute).padStart(2, "0")}`;
        await env.client.start(name === "alpha" ? alpha : beta, undefined, { instanceId: id });
        made.push({ id, name, createdAt: clock.now() });
      }
      clock.advance(MINUTE);
    }
    // An id that shares the characters of the prefix but not the prefix itself.
    await env.client.start(alpha, undefined, { instanceId: "orderX" });
    made.push({ id: "orderX", name: "alpha", createdAt: clock.now() });
    for (const m of made) {
      await waitFor(async () => {
        const status = (await env.client.getStatus(m.id))?.runtimeStatus;
        return status === (m.name === "alpha" ? "Completed" : "Running");
      }, `${m.id} to settle`);
    }
  });
  afterAll(async () => {
    await env?.dispose();
  });

  const idsWhere = (keep: (m: Made) => boolean): string[] =>
    made
      .filter(keep)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map((m) => m.id);

  it("pages through every instance exactly once, oldest first", async () => {
    const { pages, ids } = await allPages(env, { pageSize: 4 });
    expect(pages).toBe(7);
    expect(ids).toEqual(idsWhere(() => true));
    expect(new Set(ids).size).toBe(made.length);
  });

  it("filters by runtimeStatus, name, creation time and id prefix, also across pages", async () => {
    const list = async (options: ListOptions) => (await allPages(env, { pageSize: 5, ...options })).ids;
    expect(await list({ runtimeStatus: "Completed" })).toEqual(idsWhere((m) => m.name === "alpha"));
    expect(await list({ runtimeStatus: ["Running", "Pending"] })).toEqual(idsWhere((m) => m.name === "beta"));
    expect(await list({ name: "beta" })).toEqual(idsWhere((m) => m.name === "beta"));
    const from = t0 + 3 * MINUTE;
    const to = t0 + 7 * MINUTE;
    expect(await list({ createdFrom: new Date(from), createdTo: new Date(to) })).toEqual(
      idsWhere((m) => m.createdAt >= from && m.createdAt < to),
    );
    expect(await list({ instanceIdPrefix: "order-" })).toEqual(idsWhere((m) => m.id.startsWith("order-")));
    expect(await list({ instanceIdPrefix: "user-1", name: "beta", createdFrom: new Date(from) })).toEqual([
      "user-10",
      "user-11",
    ]);
    expect(await list({ name: "nobody" })).toEqual([]);
  });

  it("keeps its place when instances are created between pages", async () => {
    const seen: string[] = [];
    let page = await env.client.list({ pageSize: 10 });
    seen.push(...page.instances.map((s) => s.instanceId));
    // Newer instances sort after every existing one: they extend the listing, they do not shift it.
    clock.advance(MINUTE);
    const later = await env.client.start(alpha, undefined, { instanceId: "later-1" });
    while (page.continuationToken) {
      page = await env.client.list({ pageSize: 10, continuationToken: page.continuationToken });
      seen.push(...page.instances.map((s) => s.instanceId));
    }
    expect(seen).toEqual([...idsWhere(() => true), later]);
    await env.client.waitForCompletion(later, { timeout: 15_000 });
    await env.client.purge(later);
  });

  it("refuses an invalid continuationToken, pageSize or runtimeStatus with INVALID_ARGUMENT", async () => {
    const bogus = [
      "not a token",
      Buffer.from("[1,2,3").toString("base64url"),
      Buffer.from(JSON.stringify(["yesterday", "x"])).toString("base64url"),
    ];
    for (const continuationToken of bogus) {
      expect((await rejectionOf(env.client.list({ continuationToken }))).code).toBe("INVALID_ARGUMENT");
    }
    expect((await rejectionOf(env.client.list({ pageSize: 0 }))).code).toBe("INVALID_ARGUMENT");
    expect((await rejectionOf(env.client.list({ pageSize: 1_001 }))).code).toBe("INVALID_ARGUMENT");
    const badStatus = { runtimeStatus: "Sleeping" } as unknown as ListOptions;
    expect((await rejectionOf(env.client.list(badStatus))).code).toBe("INVALID_ARGUMENT");
  });
});
