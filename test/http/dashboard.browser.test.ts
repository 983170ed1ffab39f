// The dashboard end to end, in real headless Chromium (Debian's package, driven by
// playwright-core): list, paging, filters, an instance's timeline, live refresh, raising an
// event and terminating through the UI with its confirmation dialog, user data that
// contains <script> shown as text, and the entities: list, filters, paging, an entity's
// state and recent operations. Set UPDATE_SCREENSHOTS=1 to refresh docs/dashboard*.png.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Dialog, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer, type HttpServer } from "../../src/http/index.js";
import { entity, orchestration } from "../../src/index.js";
import { activities, greet, importFile, orchestrations, processOrder, waitForApproval } from "../fixtures/demoApp.js";
import { capturingLogger } from "../helpers/capturingLogger.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { waitFor } from "../helpers/waitFor.js";
import { CHROMIUM_ARGS, ensureChromium } from "../setup/chromium.js";

const XSS = "<script>alert(1)</script>";

/** An account, for the entity views: deposits, a withdrawal that fails, a note that holds <script>. */
const account = entity("account", {
  initialState: { balance: 0, note: "" },
  operations: {
    deposit(state, amount: number) {
      state.balance += amount;
    },
    withdraw(state, amount: number) {
      if (state.balance < amount) throw new RangeError(`insufficient funds: ${state.balance} < ${amount}`);
      state.balance -= amount;
    },
    annotate(state, note: string) {
      state.note = note;
    },
  },
});

/** Pays a bonus into an account: an orchestration as an entity's sender. */
const payBonus = orchestration("payBonus", async (ctx, key: string) => ctx.callEntity(account, key, "deposit", 25));
const API_KEY = "dashboard-test-key-0123456789";

let h: Harness;
let server: HttpServer;
let keyed: HttpServer;
let base: string;
let keyedBase: string;
let browser: Browser;
let page: Page;
let shots: string;
const dialogs: { type: string; message: string }[] = [];
/** Confirmation dialogs are accepted only while a test expects one. */
let acceptConfirm = false;

function serve(options: { apiKey?: string } = {}): HttpServer {
  return createHttpServer({
    client: h.client,
    orchestrations: [...orchestrations, payBonus],
    port: 0,
    logger: capturingLogger(),
    ...options,
  });
}

beforeAll(async () => {
  const executablePath = ensureChromium();
  shots = process.env.UPDATE_SCREENSHOTS ? "docs" : mkdtempSync(join(tmpdir(), "perdure-shots-"));
  h = createHarness();
  await h.startWorker({ orchestrations: [...orchestrations, payBonus], activities, entities: [account] });
  const order = {
    id: "1042",
    customer: "ada@example.com",
    items: ["book", "lamp", "kettle"],
    waitForConfirmation: true,
  };
  await h.client.start(processOrder, order, { instanceId: "order-1042" });
  await h.client.start(waitForApproval, { note: XSS }, { instanceId: "approval-xss" });
  await h.client.start(waitForApproval, { note: "expense report #7" }, { instanceId: "approval-7" });
  await h.client.start(importFile, "customers.csv", { instanceId: "import-3" });
  for (let i = 0; i < 22; i++) {
    await h.client.start(greet, `user ${i}`, { instanceId: `greet-${String(i).padStart(2, "0")}` });
  }
  // The event arrives after the order has packed, so that it shows on the timeline as a marker.
  await waitFor(async () => {
    const status = await h.client.getStatus("order-1042");
    return (status?.customStatus as { stage?: string } | undefined)?.stage === "awaiting confirmation";
  }, "the order to wait for confirmation");
  await h.client.raiseEvent("order-1042", "confirmed", { by: "ops@example.com" });
  await h.client.waitForCompletion("order-1042");
  await h.client.waitForCompletion("import-3");
  for (let i = 0; i < 22; i++) await h.client.waitForCompletion(`greet-${String(i).padStart(2, "0")}`);
  await h.client.signalEntity(account, "alice", "deposit", 100);
  await h.client.signalEntity(account, "alice", "withdraw", 500);
  await h.client.signalEntity(account, "alice", "annotate", XSS);
  await h.client.waitForCompletion(await h.client.start(payBonus, "alice", { instanceId: "bonus-alice" }));
  await h.client.signalEntity(account, "alice", "deposit", 1, { at: new Date(Date.now() + 3_600_000) });
  for (let i = 0; i < 21; i++) await h.client.signalEntity(account, `acct-${String(i).padStart(2, "0")}`, "deposit", i);
  await waitFor(async () => (await h.client.getEntity(account, "acct-20")).exists, "the accounts");

  server = serve();
  base = await server.listen();
  keyed = serve({ apiKey: API_KEY });
  keyedBase = await keyed.listen();
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (dialog: Dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    if (dialog.type() === "confirm" && acceptConfirm) void dialog.accept();
    else void dialog.dismiss();
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await keyed?.close();
  await h?.dispose();
  if (shots && !process.env.UPDATE_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
});

/** expect.poll with a deadline for a slow, busy machine (a guard against hanging, not a timing assertion). */
function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 20_000 });
}

const rows = () => page.locator("tr[data-instance]");
const rowIds = async () => rows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.instance));
/** The ids shown, sorted: instances started in the same millisecond may list in either order. */
const sortedRowIds = async () => (await rowIds()).sort();

async function openList(hash = "#/"): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.locator(".results table, .results .empty").first().waitFor();
}

describe("dashboard", () => {
  it("lists instances a page at a time", async () => {
    const total = (await h.client.list({ pageSize: 1000 })).instances.length;
    await openList();
    await poll(() => rows().count()).toBe(20);
    const first = await rowIds();
    await page.getByRole("button", { name: "Next →" }).click();
    await poll(() => rows().count()).toBe(total - 20);
    const second = await rowIds();
    expect(new Set([...first, ...second]).size).toBe(total);
    await page.getByRole("button", { name: "← Previous" }).click();
    await poll(rowIds).toEqual(first);
  });

  it("filters by status, id prefix, name and creation time", async () => {
    await openList();
    await page.locator("label.chip", { hasText: "Failed" }).click();
    await poll(rowIds).toEqual(["import-3"]);
    await page.locator("label.chip", { hasText: "Failed" }).click();
    await page.getByPlaceholder("Instance id prefix").fill("approval");
    await page.getByPlaceholder("Instance id prefix").press("Enter");
    await poll(sortedRowIds).toEqual(["approval-7", "approval-xss"]);
    await page.getByRole("button", { name: "Reset" }).click();
    await page.getByPlaceholder("Orchestration name").fill("importFile");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(rowIds).toEqual(["import-3"]);
    await page.getByRole("button", { name: "Reset" }).click();
    await page.locator('input[name="from"]').fill("2999-01-01T00:00");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(() => page.locator(".results .empty").count()).toBe(1);
    expect(await rows().count()).toBe(0);
  });

  it("shows an instance with its timeline: attempts, retry waits, a timer, an event, a linked sub-orchestration", async () => {
    await openList();
    await page.getByRole("link", { name: "order-1042" }).click();
    await page.locator(".timeline").waitFor();
    expect(page.url()).toContain("#/instances/order-1042");
    await poll(() => page.locator(".title-line .status").textContent()).toBe("Completed");

    const charge = page.locator(".tl-row", { has: page.locator(".tl-name", { hasText: "chargeCard" }) });
    expect(await charge.locator(".tl-attempt").count()).toBe(3);
    expect(await charge.locator(".tl-attempt.tl-failed").count()).toBe(2);
    expect(await charge.locator(".tl-backoff").count()).toBe(2);
    expect(await charge.locator(".tl-attempts").textContent()).toBe("×3");
    expect(await page.locator(".tl-row", { hasText: "packItem" }).count()).toBe(3);
    expect(await page.locator(".timeline .tl-timer").count()).toBe(1);
    expect(await page.locator(".timeline .tl-marker-event", { hasText: "confirmed" }).count()).toBe(1);
    // Every bar has a width, and starts and ends inside the track.
    const boxes = await page.locator(".tl-bar").evaluateAll((bars) =>
      bars.map((bar) => ({
        left: Number.parseFloat((bar as HTMLElement).style.left),
        width: Number.parseFloat((bar as HTMLElement).style.width),
      })),
    );
    for (const box of boxes) {
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(100.001);
    }

    // A click on the second attempt shows its failure.
    await charge.locator(".tl-attempt").nth(1).click();
    await poll(() => page.locator(".selection").textContent()).toContain("payment gateway timed out");
    expect(await page.locator(".selection .failure-code").textContent()).toBe("ETIMEDOUT");
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });

    const child = page.locator(".tl-row-sub a.tl-name");
    expect(await child.textContent()).toBe("notifyCustomer");
    await child.click();
    await poll(() => page.locator(".subtitle .orch-name").textContent()).toBe("notifyCustomer");
    const childId = decodeURIComponent(page.url().split("#/instances/")[1] ?? "");
    expect((await h.client.getStatus(childId))?.parentInstanceId).toBe("order-1042");
  });

  it("shows input and custom status containing <script> as text, and runs none of it", async () => {
    await openList("#/?prefix=approval");
    await poll(() => page.locator('tr[data-instance="approval-xss"] td.custom').textContent()).toBe(XSS);
    await page.getByRole("link", { name: "approval-xss" }).click();
    await poll(() => page.locator('[data-panel="custom-status"] pre').textContent()).toBe(JSON.stringify(XSS));
    expect(await page.locator('[data-panel="input"] pre').textContent()).toContain(XSS);
    expect(await page.locator("main script").count()).toBe(0);
    expect(await page.evaluate(() => document.scripts.length)).toBe(1);
    expect(dialogs.filter((d) => d.type !== "confirm")).toEqual([]);
  });

  it("refreshes a running instance live, and raises an event through the UI", async () => {
    const order = { id: "2001", customer: "bob@example.com", items: ["mug"], waitForConfirmation: true };
    await h.client.start(processOrder, order, { instanceId: "order-live" });
    await page.goto(`${base}/#/instances/order-live`);
    await poll(() => page.locator(".title-line .live").count()).toBe(1);
    await poll(() => page.locator('[data-panel="custom-status"] pre').textContent()).toContain("awaiting confirmation");

    await page.getByRole("button", { name: "Raise event" }).click();
    await page.getByLabel("event name").fill("confirmed");
    await page.getByLabel("event data").fill('{"by": "the dashboard"}');
    acceptConfirm = true;
    await page.getByRole("button", { name: "Send event" }).click();
    // No reload: the page polls until the instance has finished.
    await poll(() => page.locator(".title-line .status").textContent()).toBe("Completed");
    acceptConfirm = false;
    expect(await page.locator(".title-line .live").count()).toBe(0);
    expect(dialogs.at(-1)).toEqual({ type: "confirm", message: expect.stringContaining('"confirmed"') });
    const history = await h.client.getHistory("order-live");
    expect(history.find((e) => e.type === "EventRaised")).toMatchObject({
      name: "confirmed",
      input: { by: "the dashboard" },
    });
  });

  it("terminates a running instance after confirmation, and not without it", async () => {
    await page.goto(`${base}/#/instances/approval-7`);
    await poll(() => page.locator(".title-line .status").textContent()).toBe("Running");
    const terminate = page.locator('button[data-action="terminate"]');

    acceptConfirm = false;
    await terminate.click();
    expect(dialogs.at(-1)?.type).toBe("confirm");
    expect((await h.client.getStatus("approval-7"))?.runtimeStatus).toBe("Running");

    await page.getByLabel("reason").fill("expense withdrawn");
    acceptConfirm = true;
    const before = dialogs.length;
    await terminate.click();
    await poll(() => page.locator(".title-line .status").textContent()).toBe("Terminated");
    acceptConfirm = false;
    expect(dialogs.slice(before)).toEqual([{ type: "confirm", message: expect.stringContaining('"approval-7"') }]);
    const status = await h.client.getStatus("approval-7");
    expect(status?.runtimeStatus).toBe("Terminated");
    expect(status?.output).toBe("expense withdrawn");
    expect(await terminate.isDisabled()).toBe(true);
  });

  it("passes the ?code= API key it was opened with on to the API", async () => {
    await page.goto(`${keyedBase}/`);
    await poll(() => page.locator(".results .error-box").textContent()).toContain("UNAUTHORIZED");
    await page.goto(`${keyedBase}/?code=${API_KEY}#/?prefix=approval`);
    await poll(sortedRowIds).toEqual(["approval-7", "approval-xss"]);
    await page.getByRole("link", { name: "approval-xss" }).click();
    await poll(() => page.locator(".subtitle .orch-name").textContent()).toBe("waitForApproval");
    expect(page.url()).toContain(`?code=${API_KEY}#/instances/approval-xss`);
  });

  it("lists entities with their state, filtered by name and key prefix, a page at a time", async () => {
    const entityRows = () => page.locator("tr[data-entity]");
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Entities" }).click();
    await poll(() => entityRows().count()).toBe(20);
    expect(page.url()).toContain("#/entities");
    await page.getByRole("button", { name: "Next →" }).click();
    await poll(() => entityRows().count()).toBe(2);
    await page.getByPlaceholder("Entity name").fill("account");
    await page.getByPlaceholder("Key prefix").fill("ali");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(() => entityRows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.entity))).toEqual([
      "account@alice",
    ]);
    expect(page.url()).toContain("#/entities?name=account&prefix=ali");
    expect(await page.locator('tr[data-entity="account@alice"] td.custom').textContent()).toContain(XSS);
    await page.getByPlaceholder("Entity name").fill("nobody");
    await page.getByRole("button", { name: "Apply" }).click();
    await poll(() => page.locator(".results .empty").count()).toBe(1);
  });

  it("shows an entity's state, pending count and recent operations, with links to their senders", async () => {
    await page.goto(`${base}/#/entities?name=account&prefix=ali`);
    await page.getByRole("link", { name: "alice" }).click();
    await poll(() => page.locator('[data-panel="state"] pre').textContent()).toContain('"balance": 125');
    expect(page.url()).toContain("#/entities/account/alice");
    expect(await page.locator(".entity-id").textContent()).toBe("account@alice");
    expect(await page.locator('[data-panel="state"] pre').textContent()).toContain(XSS);
    const fact = (label: string) =>
      page.locator(".fact", { has: page.locator("dt", { hasText: label }) }).locator("dd");
    expect(await fact("Pending operations").textContent()).toBe("1");
    expect(await fact("Locked by").textContent()).toBe("–");

    const ops = page.locator(".operations tbody tr");
    expect(await ops.count()).toBe(4);
    const cells = await ops.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].slice(1).map((td) => td.textContent)),
    );
    expect(cells).toEqual([
      ["call", "deposit", "bonus-alice", "ok", "25"],
      ["signal", "annotate", "client", "ok", JSON.stringify(XSS)],
      ["signal", "withdraw", "client", "failed: RangeError: insufficient funds: 100 < 500", "500"],
      ["signal", "deposit", "client", "ok", "100"],
    ]);
    expect(await page.locator(".operations tr.op-failed").count()).toBe(1);
    expect(await page.locator("main script").count()).toBe(0);
    await page.screenshot({ path: join(shots, "dashboard-entity.png"), fullPage: true });

    await ops.first().getByRole("link", { name: "bonus-alice" }).click();
    await poll(() => page.locator(".subtitle .orch-name").textContent()).toBe("payBonus");
    expect(page.url()).toContain("#/instances/bonus-alice");
    expect(dialogs.filter((d) => d.type !== "confirm")).toEqual([]);
  });

  it("takes a screenshot of the list", async () => {
    await openList();
    await poll(() => rows().count()).toBe(20);
    await page.screenshot({ path: join(shots, "dashboard-list.png") });
    expect(dialogs.filter((d) => d.type !== "confirm")).toEqual([]);
  });
});
