// The entity list: filters (entity name, key prefix, page size), paging with the API's
// continuation token, and a refresh every few seconds while the tab is visible.

import { h } from "./dom.js";
import { formatInline, formatRelative, formatTime } from "./format.js";
import { mountPagedList } from "./pagedList.js";

const PAGE_SIZES = [20, 50, 100, 200];

/** Filters as kept in the page's hash: `#/entities?name=…&prefix=…&top=…`. */
export function entityFiltersFromParams(params) {
  const top = Number(params.get("top"));
  return {
    name: params.get("name") ?? "",
    prefix: params.get("prefix") ?? "",
    top: PAGE_SIZES.includes(top) ? top : PAGE_SIZES[0],
  };
}

export function entityFiltersToParams(filters) {
  const params = new URLSearchParams();
  for (const key of ["name", "prefix"]) if (filters[key]) params.set(key, filters[key]);
  if (filters.top !== PAGE_SIZES[0]) params.set("top", String(filters.top));
  return params;
}

/** Mounts the entity list into `root`; returns a function that stops its refreshing. */
export function mountEntitiesPage(root, { api, filters, entityHref, setFilters }) {
  return mountPagedList(root, {
    title: "Entities",
    sectionClass: "list-page entities-page",
    form: filterForm(filters, setFilters),
    fetchPage: async (token) => {
      const page = await api.listEntities(filters, token);
      return { items: page.entities, next: page.next };
    },
    renderItems: (entities) => table(entities, entityHref),
    emptyText: (first) => (first ? "No entities with state match these filters." : "No more entities."),
  });
}

function table(entities, entityHref) {
  const now = Date.now();
  const head = ["Entity", "Key", "State", "Last modified"].map((t) => h("th", null, t));
  return h(
    "table",
    { class: "table entities" },
    h("thead", null, h("tr", null, head)),
    h(
      "tbody",
      null,
      entities.map(({ entityId, state, lastOperationTime }) =>
        h(
          "tr",
          { dataset: { entity: `${entityId.name}@${entityId.key}` } },
          h("td", null, entityId.name),
          h("td", { class: "mono" }, h("a", { href: entityHref(entityId.name, entityId.key) }, entityId.key)),
          h("td", { class: "mono custom" }, formatInline(state, 80)),
          h("td", { title: formatTime(lastOperationTime) }, formatRelative(lastOperationTime, now)),
        ),
      ),
    ),
  );
}

function filterForm(filters, setFilters) {
  const input = (name, label, value) =>
    h(
      "label",
      { class: "field" },
      h("span", null, label),
      h("input", { type: "text", name, value, placeholder: label }),
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
            name: String(data.get("name") ?? "").trim(),
            prefix: String(data.get("prefix") ?? "").trim(),
            top: Number(data.get("top")),
          });
        },
        change: (e) => {
          if (e.target.name === "top") form.requestSubmit();
        },
      },
    },
    h(
      "div",
      { class: "fields" },
      input("name", "Entity name", filters.name),
      input("prefix", "Key prefix", filters.prefix),
      h("label", { class: "field field-small" }, h("span", null, "Per page"), size),
      h(
        "div",
        { class: "field-buttons" },
        h("button", { type: "submit", class: "btn btn-primary" }, "Apply"),
        h(
          "button",
          {
            type: "button",
            class: "btn",
            on: { click: () => setFilters(entityFiltersFromParams(new URLSearchParams())) },
          },
          "Reset",
        ),
      ),
    ),
  );
  return form;
}
