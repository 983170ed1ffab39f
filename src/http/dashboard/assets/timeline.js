// Draws the timeline model (timelineModel.js) as rows of bars on a shared time axis.

import { h } from "./dom.js";
import { formatClock, formatDuration } from "./format.js";

const KIND_LABEL = { activity: "activity", sub: "sub-orchestration", timer: "timer" };
const NICE_STEPS = [1, 2, 5];
/** Rows drawn at most; a history of thousands of calls is listed in the table instead. */
const MAX_ROWS = 300;

/** Tick spacing of about a fifth of the span, rounded to 1, 2 or 5 × 10^k ms. */
function tickStep(span) {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const n of NICE_STEPS) if (n * power >= raw) return n * power;
  return 10 * power;
}

/**
 * The timeline element. `hrefOf(id)` links a sub-orchestration to its child's page;
 * `selected` is the key of the segment whose details are open; `onSelect(key)` is called on clicks.
 */
export function renderTimeline(model, { hrefOf, selected, onSelect }) {
  const span = Math.max(model.end - model.start, 1);
  const pct = (t) => `${Math.min(100, Math.max(0, ((t - model.start) / span) * 100)).toFixed(3)}%`;
  const width = (a, b) =>
    `${Math.max(0, ((Math.min(b, model.end) - Math.max(a, model.start)) / span) * 100).toFixed(3)}%`;
  const rightHalf = (t) => (t - model.start) / span > 0.7;
  /** Where a bar's text goes: inside a wide bar, else after it, or before it near the right edge. */
  const textPlace = (start, end) => {
    if ((Math.min(end, model.end) - Math.max(start, model.start)) / span >= 0.3) return " tl-inside";
    return rightHalf(end) ? " tl-left" : "";
  };

  const step = tickStep(span);
  const ticks = [];
  const gridLines = [];
  for (let t = 0; t <= span + 1; t += step) {
    // Labels near the right edge go left of their line, so that they stay inside the track.
    const atEnd = t / span > 0.9;
    ticks.push(
      h(
        "span",
        { class: `tl-tick${atEnd ? " tl-tick-end" : ""}`, style: { left: pct(model.start + t) } },
        `+${formatDuration(t)}`,
      ),
    );
    gridLines.push(h("span", { class: "tl-gridline", style: { left: pct(model.start + t) } }));
  }
  const axis = h(
    "div",
    { class: "tl-row tl-axis" },
    h("div", { class: "tl-label" }, formatClock(model.start)),
    h("div", { class: "tl-track" }, ticks),
  );

  const overlays = () =>
    model.suspensions.map((s) =>
      h("div", { class: "tl-suspended", style: { left: pct(s.start), width: width(s.start, s.end ?? model.end) } }),
    );

  const rows = model.rows.map((row) => {
    const attempts = row.segments.filter((s) => s.kind === "attempt");
    const first = row.segments[0]?.start ?? model.start;
    const last = Math.max(...row.segments.map((s) => s.end ?? model.end));
    const running = row.segments.some((s) => s.end === null && s.kind !== "backoff");
    const name =
      row.kind === "sub" && row.instanceId
        ? h("a", { href: hrefOf(row.instanceId), class: "tl-name", title: `open ${row.instanceId}` }, row.name)
        : h("span", { class: "tl-name" }, row.name);
    const label = h(
      "div",
      { class: "tl-label" },
      h("span", { class: `tl-kind tl-kind-${row.kind}`, title: KIND_LABEL[row.kind] }),
      name,
      attempts.length > 1 ? h("span", { class: "tl-attempts", title: "attempts" }, `×${attempts.length}`) : null,
      h(
        "span",
        { class: "tl-total" },
        running ? (row.kind === "timer" ? "waiting" : "running") : formatDuration(last - first),
      ),
    );
    const bars = row.segments.map((segment, index) => {
      const key = `${row.key}/${index}`;
      const end = segment.end ?? (segment.kind === "timer" ? Math.min(segment.fireAt, model.end) : model.end);
      const text = segmentText(segment, end, model.end);
      // Several segments in a row would write over each other: only the last one is labelled
      // (the row's label has the total and the number of attempts; every bar has a tooltip).
      const labelled = index === row.segments.length - 1;
      return h(
        "button",
        {
          type: "button",
          class: `tl-bar tl-${segment.kind} tl-${segment.outcome ?? (segment.end === null ? "pending" : "done")}${key === selected ? " tl-selected" : ""}`,
          style: { left: pct(segment.start), width: width(segment.start, end) },
          title: `${row.name}: ${text}`,
          dataset: { key, kind: segment.kind },
          on: { click: () => onSelect(key === selected ? undefined : key) },
        },
        labelled ? h("span", { class: `tl-bar-text${textPlace(segment.start, end)}` }, text) : null,
      );
    });
    return h(
      "div",
      { class: `tl-row tl-row-${row.kind}`, dataset: { row: row.key } },
      label,
      h("div", { class: "tl-track" }, overlays(), bars),
    );
  });

  const markers = model.markers.map((marker, index) => {
    const key = `marker/${index}`;
    return h(
      "button",
      {
        type: "button",
        class: `tl-marker tl-marker-${marker.kind}${key === selected ? " tl-selected" : ""}`,
        style: { left: pct(marker.time) },
        title: `${marker.label} at ${formatClock(marker.time)}`,
        on: { click: () => onSelect(key === selected ? undefined : key) },
      },
      h("span", { class: `tl-marker-text${rightHalf(marker.time) ? " tl-left" : ""}` }, marker.label),
    );
  });
  const markerRow =
    markers.length > 0
      ? h(
          "div",
          { class: "tl-row tl-row-events" },
          h("div", { class: "tl-label" }, h("span", { class: "tl-name" }, "events")),
          h("div", { class: "tl-track" }, overlays(), markers),
        )
      : null;

  if (model.rows.length === 0 && markers.length === 0) {
    return h("div", { class: "tl-empty" }, "No durable calls yet.");
  }
  const shown = rows.length > MAX_ROWS ? rows.slice(0, MAX_ROWS) : rows;
  const more =
    rows.length > MAX_ROWS
      ? h("p", { class: "muted tl-more" }, `… and ${rows.length - MAX_ROWS} more calls: see the history events below.`)
      : null;
  return h(
    "div",
    { class: "timeline" },
    h("div", { class: "tl-grid", "aria-hidden": "true" }, gridLines),
    axis,
    shown,
    markerRow,
    more,
  );
}

/** A bar's text; `now` is the timeline's end, for what has not happened yet. */
function segmentText(segment, end, now) {
  const took = formatDuration(end - segment.start);
  const attempt = segment.attempt > 1 ? `attempt ${segment.attempt} · ` : "";
  switch (segment.kind) {
    case "attempt":
      if (segment.outcome === "running") return `${attempt}running ${took}`;
      return `${attempt}${segment.outcome === "failed" ? "failed · " : ""}${took}`;
    case "backoff":
      return segment.end === null ? `retry in ${formatDuration(segment.fireAt - now)}` : `retry wait ${took}`;
    case "timer":
      return segment.end === null
        ? `fires in ${formatDuration(segment.fireAt - now)} (${formatClock(segment.fireAt)})`
        : `timer ${took}`;
    default:
      return took;
  }
}

/** The segment or marker a selection key names, with its row. */
export function findSelected(model, key) {
  if (!key) return undefined;
  if (key.startsWith("marker/")) {
    const marker = model.markers[Number(key.slice("marker/".length))];
    return marker ? { marker } : undefined;
  }
  const slash = key.lastIndexOf("/");
  const row = model.rows.find((r) => r.key === key.slice(0, slash));
  const segment = row?.segments[Number(key.slice(slash + 1))];
  return segment ? { row, segment } : undefined;
}
