// The entity list: filters (entity name, key prefix, page size), paging with the API's
// continuation token, and a refresh every few seconds while the tab is visible.

import { h, replaceChildren } from "./dom.js";
import { formatInline, formatRelative, formatTime } from "./format.js";
import { errorBox } from "./widgets.js";

const REFRESH_MS = 3000;
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
  // tokens[i] is the continuation token that fetches page i (page 0 needs none).
  const state = { loads: 0, tokens: [undefined], page: 0, next: undefined, entities: [], error: undefined };
  let stopped = false;
  let timer;

  const results = h("div", { class: "results" });
  const pager = h("div", { class: "pager" });
  const updated = h("span", { class: "muted updated" });
  replaceChildren(
    root,
    h(
      "section",
      { class: "list-page entities-page" },
      h("div", { class: "page-head" }, h("div", { class: "title-line" }, h("h1", null, "Entities"), updated)),
      filterForm(filters, setFilters),
      results,
      pager,
    ),
  );

  async function load() {
    clearTimeout(timer);
    const seq = ++state.loads;
    let page;
    let error;
    try {
      page = await api.listEntities(filters, state.tokens[state.page]);
    } catch (caught) {
      error = caught;
    }
    if (stopped || seq !== state.loads) return;
    state.error = error;
    if (page) {
      state.entities = page.entities;
      state.next = page.next;
    }
    render();
    timer = setTimeout(function again() {
      if (document.hidden) timer = setTimeout(again, REFRESH_MS);
      else void load();
    }, REFRESH_MS);
  }

  function render() {
    updated.textContent = `updated ${formatTime(Date.now()).slice(11)}`;
    if (state.error) {
      replaceChildren(results, errorBox(state.error));
    } else if (state.entities.length === 0) {
      const none = state.page === 0 ? "No entities with state match these filters." : "No more entities.";
      replaceChildren(results, h("div", { class: "empty" }, none));
    } else {
      replaceChildren(results, table(state.entities, entityHref));
    }
    const go = (page) => {
      state.page = page;
      void load();
    };
    const next = () => {
      state.tokens[state.page + 1] = state.next;
      go(state.page + 1);
    };
    replaceChildren(
      pager,
      h(
        "button",
        { type: "button", class: "btn", disabled: state.page === 0, on: { click: () => go(state.page - 1) } },
        "← Previous",
      ),
      h("span", { class: "muted" }, `Page ${state.page + 1}`),
      h("button", { type: "button", class: "btn", disabled: !state.next, on: { click: next } }, "Next →"),
    );
  }

  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
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
