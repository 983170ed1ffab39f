// Turns an instance's `historyEvents` (Durable Functions' shape, as the management API
// returns them) into the rows of the timeline: one row per durable call, its attempts as
// bars, retry back-offs between them, timers from creation to firing, and markers for
// external events and for what happened to the instance (suspend, resume, rewind, end).

const time = (value) => (value ? new Date(value).getTime() : Number.NaN);
const json = (value) => {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
};
/** Slack when matching times recorded by different parts of the engine (ms). */
const SLACK = 50;

/**
 * The timeline of one instance. `status` is its status JSON (runtimeStatus, createdTime,
 * lastUpdatedTime); `now` ends the bars of what is still running.
 */
export function buildTimeline(events, status, now = Date.now()) {
  const rows = [];
  const byStep = new Map();
  const timers = [];
  const markers = [];
  const suspensions = [];
  let start = time(status?.createdTime);
  let end = Number.NaN;

  /** The row of a call: by its step when the API gives one, else a new row (or a retry's). */
  function rowFor(kind, name, step, input, at) {
    if (step !== undefined) {
      const key = `${kind}:${step}`;
      let row = byStep.get(key);
      if (!row) {
        row = { key, kind, name, step, segments: [] };
        byStep.set(key, row);
        rows.push(row);
      }
      return row;
    }
    // Without steps, an attempt that follows a failed attempt of the same call (same name and
    // input) is taken as its retry; anything else starts a row of its own.
    const inputKey = json(input);
    const retried = rows.find((row) => {
      if (row.kind !== kind || row.name !== name || row.inputKey !== inputKey) return false;
      const last = row.segments.filter((s) => s.kind === "attempt").at(-1);
      return last?.outcome === "failed" && last.end <= at + SLACK;
    });
    if (retried) return retried;
    const row = { key: `${kind}:#${rows.length}`, kind, name, inputKey, segments: [] };
    rows.push(row);
    return row;
  }

  function attempt(kind, e, outcome) {
    const folded = e.ScheduledTime !== undefined;
    const at = folded ? time(e.ScheduledTime) : time(e.Timestamp);
    const name = e.FunctionName ?? e.Name ?? "?";
    const row = rowFor(kind, name, e.Step, e.Input, at);
    if (e.InstanceId) row.instanceId = e.InstanceId;
    const segment = {
      kind: "attempt",
      start: at,
      end: outcome === "running" ? null : time(e.Timestamp),
      outcome,
      input: e.Input,
    };
    if ("Result" in e) segment.result = e.Result;
    if (e.FailureDetails) segment.failure = e.FailureDetails;
    else if (outcome === "failed" && e.Reason) segment.failure = { ErrorType: "Error", ErrorMessage: e.Reason };
    const previous = row.segments.filter((s) => s.kind === "attempt");
    segment.attempt = e.Attempt ?? previous.length + 1;
    row.segments.push(segment);
  }

  for (const e of events ?? []) {
    const at = time(e.Timestamp);
    switch (e.EventType) {
      case "ExecutionStarted":
        start = at;
        break;
      case "TaskScheduled":
        attempt("activity", e, "running");
        break;
      case "TaskCompleted":
        attempt("activity", e, "completed");
        break;
      case "TaskFailed":
        attempt("activity", e, "failed");
        break;
      case "SubOrchestrationInstanceCreated":
        attempt("sub", e, "running");
        break;
      case "SubOrchestrationInstanceCompleted":
        attempt("sub", e, "completed");
        break;
      case "SubOrchestrationInstanceFailed":
        attempt("sub", e, "failed");
        break;
      case "TimerCreated":
        timers.push({ created: at, fireAt: time(e.FireAt), fired: null, step: e.Step, attempt: e.Attempt });
        break;
      case "TimerFired": {
        const fireAt = time(e.FireAt);
        const timer = timers.find((t) =>
          e.Step !== undefined ? t.step === e.Step && t.fired === null : t.fired === null && t.fireAt === fireAt,
        );
        if (timer) timer.fired = at;
        break;
      }
      case "EventRaised":
        markers.push({ kind: "event", time: at, label: e.Name ?? "event", data: e.Input });
        break;
      case "ExecutionSuspended":
        suspensions.push({ start: at, end: null, reason: e.Reason });
        markers.push({ kind: "suspended", time: at, label: "suspended", data: e.Reason });
        break;
      case "ExecutionResumed": {
        const open = suspensions.findLast((s) => s.end === null);
        if (open) open.end = at;
        markers.push({ kind: "resumed", time: at, label: "resumed", data: e.Reason });
        break;
      }
      case "ExecutionRewound":
        markers.push({ kind: "rewound", time: at, label: "rewound", data: e.Reason });
        break;
      case "PatchApplied":
        markers.push({ kind: "patch", time: at, label: `patch ${e.PatchId ?? ""}`.trim() });
        break;
      case "ExecutionTerminated":
        end = at;
        markers.push({ kind: "terminated", time: at, label: "terminated", data: e.Input });
        break;
      case "ExecutionCompleted": {
        end = at;
        const outcome = e.OrchestrationStatus ?? "Completed";
        const kind = outcome === "Failed" ? "failed" : outcome === "ContinuedAsNew" ? "continued" : "completed";
        markers.push({ kind, time: at, label: outcome.toLowerCase(), data: e.FailureDetails ?? e.Result });
        break;
      }
      default:
        break;
    }
  }

  placeTimers(rows, timers);
  // Only a Completed, Failed or Terminated instance has a fixed end; the bars of a live one
  // (and of one whose end event is not in the history) grow until now.
  const active = ["Pending", "Running", "Suspended"].includes(status?.runtimeStatus);
  if (active || !Number.isFinite(end))
    end = active ? now : Math.max(time(status?.lastUpdatedTime) || 0, latest(rows, markers));
  if (!Number.isFinite(start)) start = earliest(rows, markers, end);
  for (const row of rows) row.segments.sort((a, b) => a.start - b.start);
  rows.sort((a, b) => (a.segments[0]?.start ?? 0) - (b.segments[0]?.start ?? 0));
  return { start, end: Math.max(end, start), active, rows, markers, suspensions };
}

/**
 * Retry timers become the back-off segments of their call's row (by step when given, else by
 * their place between a failed attempt and the next); other timers get rows of their own.
 */
function placeTimers(rows, timers) {
  let timerRows = 0;
  for (const timer of timers) {
    const segment = { kind: "backoff", start: timer.created, end: timer.fired, fireAt: timer.fireAt };
    let owner;
    if (timer.step !== undefined) {
      owner = timer.attempt !== undefined ? rows.find((r) => r.step === timer.step) : undefined;
    } else {
      owner = rows.find((row) => isRetryWait(row, timer));
    }
    if (owner) {
      owner.segments.push(segment);
      continue;
    }
    segment.kind = "timer";
    rows.push({
      key: `timer:${timer.step ?? `#${timerRows}`}`,
      kind: "timer",
      name: "timer",
      step: timer.step,
      segments: [segment],
    });
    timerRows++;
  }
}

/** Whether a timer (without a step) waits between a failed attempt of `row` and its next attempt. */
function isRetryWait(row, timer) {
  if (row.kind === "timer") return false;
  const attempts = row.segments.filter((s) => s.kind === "attempt");
  for (const [i, a] of attempts.entries()) {
    if (a.outcome !== "failed" || timer.created < a.end - SLACK) continue;
    const next = attempts[i + 1];
    if (next ? timer.created <= next.start && timer.fireAt <= next.start + SLACK : timer.fired === null) {
      if (!row.segments.some((s) => s.kind === "backoff" && s.start === timer.created)) return true;
    }
  }
  return false;
}

function latest(rows, markers) {
  let max = 0;
  for (const row of rows) for (const s of row.segments) max = Math.max(max, s.end ?? s.start);
  for (const m of markers) max = Math.max(max, m.time);
  return max;
}

function earliest(rows, markers, fallback) {
  let min = fallback;
  for (const row of rows) for (const s of row.segments) min = Math.min(min, s.start);
  for (const m of markers) min = Math.min(min, m.time);
  return min;
}
