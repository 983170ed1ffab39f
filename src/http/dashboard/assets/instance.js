// The instance page: status, data, failure, the history timeline and the actions.
// While the instance is active it is fetched again every POLL_MS.

import { ApiError } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { formatDuration, formatRelative, formatTime, isActive } from "./format.js";
import { fact, historyTable, legend, selectionView } from "./instanceParts.js";
import { findSelected, renderTimeline } from "./timeline.js";
import { buildTimeline } from "./timelineModel.js";
import { failureView, statusPill, valuePanel } from "./widgets.js";

const POLL_MS = 1500;

/** Mounts the page of instance `id` into `root`; returns a function that stops it. */
export function mountInstancePage(root, { api, id, hrefOf, listHref, navigate }) {
  const state = {
    loads: 0,
    data: undefined,
    selected: undefined,
    open: new Set(),
    message: undefined,
    busy: false,
    stopped: false,
  };
  let timer;

  const view = {
    head: h("div", { class: "page-head" }),
    actions: h("div", { class: "actions" }),
    message: h("div", { class: "message-area", "aria-live": "polite" }),
    body: h("div", { class: "instance-body" }),
  };
  replaceChildren(root, h("section", { class: "instance-page" }, view.head, view.actions, view.message, view.body));

  async function load() {
    clearTimeout(timer);
    // Only the latest load renders and schedules the next poll: a poll still in flight when
    // an action reloads must not start a second polling loop.
    const seq = ++state.loads;
    let data;
    let loadError;
    try {
      data = await api.get(id);
    } catch (error) {
      loadError = error;
    }
    if (state.stopped || seq !== state.loads) return;
    state.data = data;
    state.loadError = loadError;
    render();
    // Polling goes on while the instance is active, or after a failure that may pass (the
    // server away, a 5xx); a 4xx such as a missing key will not change by itself.
    const transient = loadError && !(loadError.status >= 400 && loadError.status < 500);
    if (transient || (data && isActive(data.runtimeStatus))) timer = setTimeout(load, POLL_MS);
  }

  function render() {
    const data = state.data;
    const live = data && isActive(data.runtimeStatus);
    replaceChildren(
      view.head,
      h("nav", { class: "crumbs" }, h("a", { href: listHref() }, "Instances"), h("span", null, " / ")),
      h(
        "div",
        { class: "title-line" },
        h("h1", { class: "instance-id" }, id),
        data ? statusPill(data.runtimeStatus) : null,
        live ? h("span", { class: "live", title: `refreshing every ${POLL_MS / 1000} s` }, "live") : null,
      ),
      data ? h("div", { class: "subtitle" }, h("span", { class: "orch-name" }, data.name)) : null,
    );
    renderMessage();
    if (!data) {
      state.actionsKey = undefined;
      replaceChildren(view.actions);
      replaceChildren(
        view.body,
        state.loadError
          ? h("div", { class: "error-box", role: "alert" }, `Could not load the instance: ${describe(state.loadError)}`)
          : h(
              "div",
              { class: "empty" },
              "No instance with this id exists (it may have been purged). ",
              h("a", { href: listHref() }, "Back to the list"),
            ),
      );
      return;
    }
    // The actions bar keeps its inputs (reason, event form) across refreshes: it is rebuilt
    // only when what it offers changes.
    const actionsKey = `${data.runtimeStatus}/${state.busy}`;
    if (actionsKey !== state.actionsKey) {
      state.actionsKey = actionsKey;
      renderActions(data);
    }
    const model = buildTimeline(data.historyEvents ?? [], data, Date.now());
    const chosen = findSelected(model, state.selected);
    if (!chosen) state.selected = undefined;
    const created = new Date(data.createdTime).getTime();
    const updated = new Date(data.lastUpdatedTime).getTime();
    const failure = data.failureDetails;
    replaceChildren(
      view.body,
      h(
        "dl",
        { class: "facts" },
        fact("Orchestration", data.name),
        fact("Created", formatTime(data.createdTime), formatRelative(data.createdTime)),
        fact("Last updated", formatTime(data.lastUpdatedTime), formatRelative(data.lastUpdatedTime)),
        fact(live ? "Running for" : "Took", formatDuration((live ? Date.now() : updated) - created)),
        fact("History events", String((data.historyEvents ?? []).length)),
      ),
      failure
        ? h(
            "section",
            { class: "panel panel-failure" },
            h("h3", null, "Failure"),
            failureView(failure, keepOpen("failure-stack")),
          )
        : null,
      h(
        "div",
        { class: "panels" },
        valuePanel("Input", data.input),
        valuePanel("Output", data.runtimeStatus === "Failed" ? undefined : data.output, {
          empty: live ? "not yet" : "none",
        }),
        valuePanel("Custom status", data.customStatus),
      ),
      h(
        "section",
        { class: "panel panel-timeline" },
        h("div", { class: "panel-title" }, h("h3", null, "Timeline"), legend()),
        renderTimeline(model, {
          hrefOf,
          selected: state.selected,
          onSelect: (key) => {
            state.selected = key;
            render();
          },
        }),
        chosen
          ? selectionView(chosen, hrefOf)
          : model.rows.length + model.markers.length > 0
            ? h("p", { class: "muted hint" }, "Click a bar or marker for its details.")
            : null,
      ),
      historyTable(data.historyEvents ?? [], keepOpen("history")),
    );
  }

  /** Keeps a <details> open across refreshes. */
  function keepOpen(name) {
    return { open: state.open.has(name), onToggle: (open) => (open ? state.open.add(name) : state.open.delete(name)) };
  }

  function renderMessage() {
    const m = state.message;
    replaceChildren(
      view.message,
      m
        ? h("div", { class: `message message-${m.kind}`, role: m.kind === "error" ? "alert" : "status" }, m.text)
        : null,
    );
  }

  function renderActions(data) {
    const status = data.runtimeStatus;
    const active = isActive(status);
    const reason = h("input", {
      type: "text",
      class: "reason",
      placeholder: "reason (optional)",
      "aria-label": "reason",
    });
    const button = (label, enabled, question, run, className = "") =>
      h(
        "button",
        {
          type: "button",
          class: `btn ${className}`.trim(),
          disabled: !enabled || state.busy,
          dataset: { action: label.toLowerCase().replace(/\s+/g, "-") },
          on: {
            click: () => {
              // A real confirmation dialog, whose text holds the id as plain text.
              if (!window.confirm(question)) return;
              void perform(label, () => run(reason.value.trim() || undefined));
            },
          },
        },
        label,
      );
    const eventForm = raiseEventForm(active);
    replaceChildren(
      view.actions,
      button(
        "Terminate",
        active,
        `Terminate instance "${id}"? It stops at once; activities in flight are abandoned.`,
        (r) => api.terminate(id, r),
        "btn-danger",
      ),
      button("Suspend", status === "Running" || status === "Pending", `Suspend instance "${id}"?`, (r) =>
        api.suspend(id, r),
      ),
      button("Resume", status === "Suspended", `Resume instance "${id}"?`, (r) => api.resume(id, r)),
      button("Rewind", status === "Failed", `Rewind instance "${id}"? It runs again from its failed step.`, (r) =>
        api.rewind(id, r),
      ),
      button(
        "Restart",
        true,
        active
          ? `Restart instance "${id}"? It is still ${status}: the new run gets a new id.`
          : `Restart instance "${id}"? A new run with the same input replaces this one.`,
        async () => {
          const newId = await api.restart(id, active);
          if (newId !== id) navigate(hrefOf(newId));
        },
      ),
      button(
        "Purge",
        !active,
        `Purge instance "${id}"? Its status and history are deleted for good.`,
        async () => {
          await api.purge(id);
          navigate(listHref());
        },
        "btn-danger",
      ),
      h(
        "button",
        {
          type: "button",
          class: "btn",
          disabled: !active || state.busy,
          dataset: { action: "raise-event" },
          on: { click: () => eventForm.toggleAttribute("hidden") },
        },
        "Raise event",
      ),
      reason,
      eventForm,
    );
  }

  function raiseEventForm(active) {
    const name = h("input", {
      type: "text",
      name: "event",
      placeholder: "event name",
      required: true,
      "aria-label": "event name",
    });
    const data = h("textarea", {
      name: "data",
      rows: 2,
      placeholder: 'data as JSON (optional), e.g. {"approved": true}',
      "aria-label": "event data",
    });
    return h(
      "form",
      {
        class: "raise-form",
        hidden: true,
        on: {
          submit: (e) => {
            e.preventDefault();
            const eventName = name.value.trim();
            let payload;
            if (data.value.trim() !== "") {
              try {
                payload = JSON.parse(data.value);
              } catch (error) {
                state.message = { kind: "error", text: `The event data is not JSON: ${error.message}` };
                renderMessage();
                return;
              }
            }
            if (!eventName || !active) return;
            if (!window.confirm(`Raise event "${eventName}" on instance "${id}"?`)) return;
            void perform("Raise event", () => api.raiseEvent(id, eventName, payload));
          },
        },
      },
      name,
      data,
      h("button", { type: "submit", class: "btn btn-primary" }, "Send event"),
    );
  }

  async function perform(label, run) {
    state.busy = true;
    state.message = { kind: "info", text: `${label}…` };
    render();
    try {
      await run();
      state.message = { kind: "ok", text: `${label}: done.` };
    } catch (error) {
      state.message = { kind: "error", text: `${label} failed: ${describe(error)}` };
    } finally {
      state.busy = false;
    }
    if (!state.stopped) await load();
  }

  void load();
  return () => {
    state.stopped = true;
    clearTimeout(timer);
  };
}

function describe(error) {
  return error instanceof ApiError ? `${error.code}: ${error.message}` : String(error?.message ?? error);
}
