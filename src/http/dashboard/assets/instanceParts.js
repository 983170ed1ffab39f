// Parts of the instance page: fact cards, the timeline's legend and selection details,
// and the table of every history event.

import { h } from "./dom.js";
import { formatClock, formatDuration, formatInline, formatJson } from "./format.js";
import { failureView } from "./widgets.js";

export function fact(label, value, hint) {
  return h(
    "div",
    { class: "fact" },
    h("dt", null, label),
    h("dd", null, value, hint ? h("span", { class: "hint-line" }, hint) : null),
  );
}

export function legend() {
  const item = (className, text) =>
    h("span", { class: "legend-item" }, h("span", { class: `legend-swatch ${className}` }), text);
  return h(
    "div",
    { class: "legend" },
    item("tl-completed", "completed"),
    item("tl-failed", "failed"),
    item("tl-running", "running"),
    item("tl-backoff", "retry wait"),
    item("tl-timer", "timer"),
    item("tl-marker-swatch", "event"),
  );
}

/** Details of the bar or marker clicked in the timeline. */
export function selectionView(chosen, hrefOf) {
  if (chosen.marker) {
    const m = chosen.marker;
    return h(
      "div",
      { class: "selection" },
      h("h4", null, m.label, h("span", { class: "muted" }, ` at ${formatClock(m.time)}`)),
      m.data !== undefined ? h("pre", { class: "json" }, formatJson(m.data)) : null,
    );
  }
  const { row, segment } = chosen;
  const end = segment.end;
  const facts = [
    [
      "Kind",
      segment.kind === "attempt"
        ? row.kind === "sub"
          ? "sub-orchestration"
          : "activity"
        : segment.kind === "backoff"
          ? "retry wait"
          : "timer",
    ],
    ["Started", formatClock(segment.start)],
    ["Ended", end === null ? "not yet" : formatClock(end)],
    ["Duration", formatDuration((end ?? Date.now()) - segment.start)],
  ];
  if (segment.attempt !== undefined) facts.splice(1, 0, ["Attempt", String(segment.attempt)]);
  if (segment.fireAt !== undefined) facts.push(["Fires at", formatClock(segment.fireAt)]);
  return h(
    "div",
    { class: "selection" },
    h(
      "h4",
      null,
      row.name,
      row.kind === "sub" && row.instanceId
        ? h("a", { href: hrefOf(row.instanceId), class: "child-link" }, `open ${row.instanceId}`)
        : null,
    ),
    h(
      "dl",
      { class: "facts facts-small" },
      facts.map(([k, v]) => fact(k, v)),
    ),
    segment.input !== undefined
      ? h("div", null, h("h5", null, "Input"), h("pre", { class: "json" }, formatJson(segment.input)))
      : null,
    "result" in segment
      ? h("div", null, h("h5", null, "Result"), h("pre", { class: "json" }, formatJson(segment.result)))
      : null,
    segment.failure ? h("div", null, h("h5", null, "Failure"), failureView(segment.failure)) : null,
  );
}

/** Every history event, in a collapsible table. */
export function historyTable(events, { open, onToggle }) {
  const start = events.length ? new Date(events[0].Timestamp).getTime() : 0;
  const rows = events.map((e, index) => {
    const { EventType, Timestamp, ...rest } = e;
    const at = new Date(Timestamp).getTime();
    return h(
      "tr",
      null,
      h("td", { class: "num" }, String(index)),
      h("td", { class: "mono" }, formatClock(at)),
      h("td", { class: "num" }, `+${formatDuration(at - start)}`),
      h("td", null, EventType),
      h("td", { class: "mono detail" }, formatInline(rest, 160)),
    );
  });
  return h(
    "details",
    { class: "panel history", open, on: { toggle: (e) => onToggle(e.currentTarget.open) } },
    h("summary", null, h("h3", null, `History events (${events.length})`)),
    h(
      "table",
      { class: "table" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", null, "#"),
          h("th", null, "Time"),
          h("th", null, "+"),
          h("th", null, "Event"),
          h("th", null, "Details"),
        ),
      ),
      h("tbody", null, rows),
    ),
  );
}
