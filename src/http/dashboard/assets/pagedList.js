// A list page: a heading, a filter form, a table of one page of results with paging by the
// API's continuation tokens, and a refresh every few seconds while the tab is visible.

import { h, replaceChildren } from "./dom.js";
import { formatTime } from "./format.js";
import { errorBox } from "./widgets.js";

const REFRESH_MS = 3000;

/**
 * Mounts a paged list into `root`; returns a function that stops its refreshing.
 * `fetchPage(token)` resolves to `{ items, next }`; `renderItems(items)` makes the table;
 * `emptyText(isFirstPage)` says what an empty page means.
 */
export function mountPagedList(root, { title, sectionClass, form, fetchPage, renderItems, emptyText }) {
  // tokens[i] is the continuation token that fetches page i (page 0 needs none).
  const state = { loads: 0, tokens: [undefined], page: 0, next: undefined, items: [], error: undefined };
  let stopped = false;
  let timer;

  const results = h("div", { class: "results" });
  const pager = h("div", { class: "pager" });
  const updated = h("span", { class: "muted updated" });
  replaceChildren(
    root,
    h(
      "section",
      { class: sectionClass },
      h("div", { class: "page-head" }, h("div", { class: "title-line" }, h("h1", null, title), updated)),
      form,
      results,
      pager,
    ),
  );

  async function load() {
    clearTimeout(timer);
    // A refresh still in flight when the page changes must not render the old page after it.
    const seq = ++state.loads;
    let page;
    let error;
    try {
      page = await fetchPage(state.tokens[state.page]);
    } catch (caught) {
      error = caught;
    }
    if (stopped || seq !== state.loads) return;
    state.error = error;
    if (page) {
      state.items = page.items;
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
    if (state.error) replaceChildren(results, errorBox(state.error));
    else if (state.items.length === 0)
      replaceChildren(results, h("div", { class: "empty" }, emptyText(state.page === 0)));
    else replaceChildren(results, renderItems(state.items));
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
      h(
        "button",
        { type: "button", class: "btn", disabled: !state.next, dataset: { action: "next-page" }, on: { click: next } },
        "Next →",
      ),
    );
  }

  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
