// The instance list: filters (status, name, id prefix, created time), paging with the
// API's continuation token, and a refresh every few seconds while the tab is visible.

import { h } from "./dom.js";
import { ALL_STATUSES, formatInline, formatRelative, formatTime } from "./format.js";
import { mountPagedList } from "./pagedList.js";
import { statusPill } from "./widgets.js";

const PAGE_SIZES = [20, 50, 100, 200];

/** Filters as kept in the page's hash: `#/?status=Running,Failed&name=…&prefix=…&from=…&to=…&top=…`. */
export function filtersFromParams(params) {
  const top = Number(params.get("top"));
  return {
    statuses: (params.get("status") ?? "").split(",").filter((s) => ALL_STATUSES.includes(s)),
    name: params.get("name") ?? "",
    prefix: params.get("prefix") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
    top: PAGE_SIZES.includes(top) ? top : PAGE_SIZES[0],
  };
}

export function filtersToParams(filters) {
  const params = new URLSearchParams();
  if (filters.statuses.length) params.set("status", filters.statuses.join(","));
  for (const key of ["name", "prefix", "from", "to"]) if (filters[key]) params.set(key, filters[key]);
  if (filters.top !== PAGE_SIZES[0]) params.set("top", String(filters.top));
  return params;
}

/** A `datetime-local` value (local time) as an ISO instant for the API. */
function toIso(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Mounts the list into `root`; returns a function that stops its refreshing. */
export function mountListPage(root, { api, filters, hrefOf, setFilters }) {
  return mountPagedList(root, {
    title: "Instances",
    sectionClass: "list-page",
    form: filterForm(filters, setFilters),
    fetchPage: async (token) => {
      const query = { ...filters, from: toIso(filters.from), to: toIso(filters.to) };
      const page = await api.list(query, token);
      return { items: page.instances, next: page.next };
    },
    renderItems: (instances) => table(instances, hrefOf),
    emptyText: (first) => (first ? "No instances match these filters." : "No more instances."),
  });
}

function table(instances, hrefOf) {
  const now = Date.now();
  return h(
    "table",
    { class: "table instances" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ["Instance", "Orchestration", "Status", "Created", "Last updated", "Custom status"].map((t) =>
          h("th", null, t),
        ),
      ),
    ),
    h(
      "tbody",
      null,
      instances.map((s) =>
        h(
          "tr",
          { dataset: { instance: s.instanceId } },
          h("td", { class: "mono" }, h("a", { href: hrefOf(s.instanceId) }, s.instanceId)),
          h("td", null, s.name),
          h("td", null, statusPill(s.runtimeStatus)),
          h("td", { title: formatTime(s.createdTime) }, formatRelative(s.createdTime, now)),
          h("td", { title: formatTime(s.lastUpdatedTime) }, formatRelative(s.lastUpdatedTime, now)),
          h("td", { class: "mono custom" }, formatInline(s.customStatus, 60)),
        ),
      ),
    ),
  );
}

function filterForm(filters, setFilters) {
  const chips = ALL_STATUSES.map((status) =>
    h(
      "label",
      { class: `chip chip-${status}` },
      h("input", { type: "checkbox", name: "status", value: status, checked: filters.statuses.includes(status) }),
      status,
    ),
  );
  const input = (name, placeholder, value, type = "text") =>
    h(
      "label",
      { class: "field" },
      h("span", null, placeholder),
      h("input", { type, name, value, placeholder: type === "text" ? placeholder : undefined }),
    );
  const size = h(
    "select",
    { name: "top" },
    PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === filters.top }, String(n))),
  );
  const form = h(
    "form",
    {
      class: "filters",
      on: {
        submit: (e) => {
          e.preventDefault();
          const data = new FormData(form);
          setFilters({
            statuses: data.getAll("status").map(String),
            name: String(data.get("name") ?? "").trim(),
            prefix: String(data.get("prefix") ?? "").trim(),
            from: String(data.get("from") ?? ""),
            to: String(data.get("to") ?? ""),
            top: Number(data.get("top")),
          });
        },
        change: (e) => {
          // Status chips and the page size apply at once; text fields on Enter or "Apply".
          if (e.target.name === "status" || e.target.name === "top") form.requestSubmit();
        },
      },
    },
    h("div", { class: "chips", role: "group", "aria-label": "status" }, chips),
    h(
      "div",
      { class: "fields" },
      input("name", "Orchestration name", filters.name),
      input("prefix", "Instance id prefix", filters.prefix),
      input("from", "Created from", filters.from, "datetime-local"),
      input("to", "Created before", filters.to, "datetime-local"),
      h("label", { class: "field field-small" }, h("span", null, "Per page"), size),
      h(
        "div",
        { class: "field-buttons" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Apply"),
        h(
          "button",
          { type: "button", class: "btn", on: { click: () => setFilters(filtersFromParams(new URLSearchParams())) } },
          "Reset",
        ),
      ),
    ),
  );
  return form;
}
