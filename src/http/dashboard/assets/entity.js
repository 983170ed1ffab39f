// An entity's page: its state, last change, lock holder and pending operations, and the
// table of its recent operations (who sent each, signal or call, outcome, input). It is
// fetched again every REFRESH_MS while the tab is visible.

import { ApiError } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatInline, formatRelative, formatTime } from "./format.js";
import { fact } from "./instanceParts.js";
import { valuePanel } from "./widgets.js";

const REFRESH_MS = 3000;

/** Mounts the page of entity `name`@`key` into `root`; returns a function that stops it. */
export function mountEntityPage(root, { api, name, key, hrefOf, entityHref, listHref }) {
  let stopped = false;
  let loads = 0;
  let timer;
  const head = h("div", { class: "page-head" });
  const body = h("div", { class: "entity-body" });
  replaceChildren(root, h("section", { class: "entity-page" }, head, body));
  replaceChildren(
    head,
    h("nav", { class: "crumbs" }, h("a", { href: listHref() }, "Entities"), h("span", null, " / "), name),
    h("div", { class: "title-line" }, h("h1", { class: "instance-id entity-id" }, `${name}@${key}`)),
  );

  async function load() {
    clearTimeout(timer);
    const seq = ++loads;
    let data;
    let error;
    try {
      data = await api.getEntity(name, key);
    } catch (caught) {
      error = caught;
    }
    if (stopped || seq !== loads) return;
    render(data, error);
    timer = setTimeout(function again() {
      if (document.hidden) timer = setTimeout(again, REFRESH_MS);
      else void load();
    }, REFRESH_MS);
  }

  function render(data, error) {
    if (!data) {
      replaceChildren(
        body,
        error
          ? h("div", { class: "error-box", role: "alert" }, `Could not load the entity: ${describe(error)}`)
          : h(
              "div",
              { class: "empty" },
              "Nothing is known of this entity. ",
              h("a", { href: listHref() }, "Back to the list"),
            ),
      );
      return;
    }
    replaceChildren(
      body,
      h(
        "dl",
        { class: "facts" },
        fact("Entity", data.entityId.name),
        fact("State", data.exists ? "stored" : "none (initial state)"),
        fact(
          "Last modified",
          formatTime(data.lastOperationTime),
          data.lastOperationTime ? formatRelative(data.lastOperationTime) : undefined,
        ),
        fact("Locked by", data.lockedBy ? h("a", { href: hrefOf(data.lockedBy), class: "mono" }, data.lockedBy) : "–"),
        fact("Pending operations", String(data.pendingOperations)),
      ),
      h(
        "div",
        { class: "panels" },
        valuePanel("State", data.exists ? data.state : undefined, { className: "panel-state" }),
      ),
      operationsTable(data.recentOperations, { hrefOf, entityHref }),
    );
  }

  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function operationsTable(operations, links) {
  const head = ["Applied", "Kind", "Operation", "Sender", "Outcome", "Input"].map((t) => h("th", null, t));
  const now = Date.now();
  return h(
    "section",
    { class: "panel panel-operations", dataset: { panel: "recent-operations" } },
    h("h3", null, `Recent operations (${operations.length})`),
    operations.length === 0
      ? h("p", { class: "muted" }, "None recorded yet.")
      : h(
          "table",
          { class: "table operations" },
          h("thead", null, h("tr", null, head)),
          h(
            "tbody",
            null,
            operations.map((op) =>
              h(
                "tr",
                { class: op.ok ? "op-ok" : "op-failed", dataset: { operation: op.operation ?? op.kind } },
                h("td", { title: formatRelative(op.appliedTime, now) }, formatTime(op.appliedTime)),
                h("td", null, h("span", { class: `op-kind op-kind-${op.kind}` }, op.kind)),
                h("td", { class: "mono" }, op.operation ?? ""),
                h("td", null, sender(op.sender, links)),
                h(
                  "td",
                  { class: "op-outcome" },
                  op.ok ? "ok" : `failed: ${op.error?.name ?? "Error"}: ${op.error?.message ?? ""}`,
                ),
                h("td", { class: "mono custom" }, formatInline(op.inputPreview, 80)),
              ),
            ),
          ),
        ),
  );
}

function sender(s, { hrefOf, entityHref }) {
  if (s.kind === "orchestration") return h("a", { href: hrefOf(s.instanceId), class: "mono" }, s.instanceId);
  if (s.kind === "entity") return h("a", { href: entityHref(s.name, s.key), class: "mono" }, `${s.name}@${s.key}`);
  return h("span", { class: "muted" }, "client");
}

function describe(error) {
  return error instanceof ApiError ? `${error.code}: ${error.message}` : String(error?.message ?? error);
}
