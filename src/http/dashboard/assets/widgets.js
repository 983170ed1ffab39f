// Small pieces shared by the pages: status pills, value panels, failure details.

import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { ALL_STATUSES, formatJson } from "./format.js";

/** A coloured status label. */
export function statusPill(status) {
  const known = ALL_STATUSES.includes(status) ? status : "Unknown";
  return h("span", { class: `status status-${known}` }, String(status ?? "?"));
}

/** A titled panel with a value as pretty JSON (as text). */
export function valuePanel(title, value, { empty = "none", className = "" } = {}) {
  const isEmpty = value === undefined || value === null;
  return h(
    "section",
    { class: `panel ${className}`.trim(), dataset: { panel: title.toLowerCase().replace(/\s+/g, "-") } },
    h("h3", null, title),
    isEmpty ? h("p", { class: "muted" }, empty) : h("pre", { class: "json" }, formatJson(value)),
  );
}

/** Durable Functions' failure details ({ ErrorType, ErrorMessage, … } or camel-cased), with causes. */
export function failureView(failure, { open = false, onToggle } = {}) {
  const type = failure.errorType ?? failure.ErrorType ?? "Error";
  const message = failure.errorMessage ?? failure.ErrorMessage ?? "";
  const code = failure.errorCode ?? failure.ErrorCode;
  const stack = failure.stackTrace ?? failure.StackTrace;
  const inner = failure.innerFailure ?? failure.InnerFailure;
  const stackView = stack
    ? h(
        "details",
        { class: "stack", open, on: onToggle ? { toggle: (e) => onToggle(e.currentTarget.open) } : undefined },
        h("summary", null, "stack trace"),
        h("pre", null, stack),
      )
    : null;
  return h(
    "div",
    { class: "failure" },
    h(
      "div",
      { class: "failure-head" },
      h("strong", null, type),
      code ? h("code", { class: "failure-code" }, code) : null,
    ),
    h("div", { class: "failure-message" }, message),
    stackView,
    inner ? h("div", { class: "failure-cause" }, h("span", { class: "muted" }, "caused by"), failureView(inner)) : null,
  );
}

/** A failed API call as an alert box: its error code and message. */
export function errorBox(e) {
  const text = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e?.message ?? e);
  return h("div", { class: "error-box", role: "alert" }, text);
}
