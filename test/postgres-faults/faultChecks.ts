import type { HistoryEvent } from "../../src/index.js";
import type { TestDatabase } from "../helpers/postgres.js";
import { type ActivityLogLine, applyStep, expectedOutput, STEPS } from "./faultWorkflow.js";

/**
 * Reads every instance of the schema straight from its tables (not through the store) and
 * returns what is wrong: an instance not Completed or with the wrong output; history
 * indices that are not exactly 0..n-1; a step scheduled or completed other than exactly
 * once, or with the wrong result; more than one start or end of the execution.
 */
export async function storeProblems(db: TestDatabase, schema: string, inputs: Map<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const instances = await db.query(`SELECT instance_id, status, output FROM "${schema}".instances`);
  const seen = new Set<string>();
  for (const row of instances.rows as { instance_id: string; status: string; output: string | null }[]) {
    seen.add(row.instance_id);
    const input = inputs.get(row.instance_id);
    if (input === undefined) {
      problems.push(`${row.instance_id}: an instance the test did not start`);
      continue;
    }
    if (row.status !== "Completed") problems.push(`${row.instance_id}: ${row.status}, expected Completed`);
    else if (row.output !== JSON.stringify(expectedOutput(input)))
      problems.push(`${row.instance_id}: output ${row.output}, expected ${expectedOutput(input)}`);
  }
  for (const id of inputs.keys()) if (!seen.has(id)) problems.push(`${id}: missing`);

  const history = await db.query(`SELECT instance_id, idx, event FROM "${schema}".history ORDER BY instance_id, idx`);
  const byInstance = new Map<string, { idx: number; event: HistoryEvent }[]>();
  for (const row of history.rows as { instance_id: string; idx: number; event: string }[]) {
    const list = byInstance.get(row.instance_id) ?? [];
    list.push({ idx: row.idx, event: JSON.parse(row.event) as HistoryEvent });
    byInstance.set(row.instance_id, list);
  }
  for (const [id, input] of inputs) {
    problems.push(...historyProblems(id, input, byInstance.get(id) ?? []));
  }
  return problems;
}

function historyProblems(id: string, input: number, rows: { idx: number; event: HistoryEvent }[]): string[] {
  const problems: string[] = [];
  rows.forEach((row, position) => {
    if (row.idx !== position) problems.push(`${id}: history index ${row.idx} at position ${position}`);
  });
  const events = rows.map((r) => r.event);
  const count = (type: HistoryEvent["type"]) => events.filter((e) => e.type === type).length;
  if (count("ExecutionStarted") !== 1) problems.push(`${id}: ${count("ExecutionStarted")} ExecutionStarted`);
  if (count("ExecutionCompleted") !== 1) problems.push(`${id}: ${count("ExecutionCompleted")} ExecutionCompleted`);
  const scheduled = events.filter((e) => e.type === "TaskScheduled");
  const completed = events.filter((e) => e.type === "TaskCompleted");
  if (scheduled.length !== STEPS) problems.push(`${id}: ${scheduled.length} TaskScheduled, expected ${STEPS}`);
  if (completed.length !== STEPS) problems.push(`${id}: ${completed.length} TaskCompleted, expected ${STEPS}`);
  if (new Set(completed.map((e) => e.step)).size !== completed.length) problems.push(`${id}: a step completed twice`);
  let n = input;
  completed.forEach((event, i) => {
    n = applyStep(i + 1, n);
    if (event.result !== n) problems.push(`${id}: step ${i + 1} recorded ${String(event.result)}, expected ${n}`);
  });
  return problems;
}

/** Activity runs beyond the first of each step, and whose lost work each one redid. */
export interface Reruns {
  /** Activity starts in all. */
  starts: number;
  /** Starts beyond the first of their step. */
  total: number;
  /** Re-runs, by the process (tag) that ran the step before them, whose run did not count. */
  byPreviousProcess: Map<string, number>;
  /** Steps whose runs carried different idempotency keys. */
  keyMismatches: string[];
  /** Steps of instances that never started at all. */
  neverRan: string[];
}

/** Counts re-runs in the activity log of the instances `ids`. */
export function countReruns(lines: ActivityLogLine[], ids: Iterable<string>): Reruns {
  const runs = new Map<string, ActivityLogLine[]>();
  for (const line of lines) {
    if (line.e !== "s") continue;
    const key = `${line.i}#${line.s}`;
    runs.set(key, [...(runs.get(key) ?? []), line]);
  }
  const result: Reruns = { starts: 0, total: 0, byPreviousProcess: new Map(), keyMismatches: [], neverRan: [] };
  for (const id of ids) {
    for (let step = 1; step <= STEPS; step++) {
      const starts = runs.get(`${id}#${step}`) ?? [];
      result.starts += starts.length;
      if (starts.length === 0) result.neverRan.push(`${id} step ${step}`);
      if (new Set(starts.map((s) => s.k)).size > 1) result.keyMismatches.push(`${id} step ${step}`);
      for (let i = 1; i < starts.length; i++) {
        result.total++;
        const previous = (starts[i - 1] as ActivityLogLine).p;
        result.byPreviousProcess.set(previous, (result.byPreviousProcess.get(previous) ?? 0) + 1);
      }
    }
  }
  return result;
}

/** The instances not Completed, with their lease, inbox and tasks: what a failed run leaves to explain. */
export async function unfinishedReport(db: TestDatabase, schema: string, limit = 10): Promise<string> {
  const { rows } = await db.query(
    `SELECT i.instance_id, i.status, i.lease_owner, i.lease_token, i.lease_expires_at - (extract(epoch FROM now()) * 1000)::bigint AS lease_left_ms,
        i.history_length,
        (SELECT count(*) FROM "${schema}".inbox m WHERE m.instance_id = i.instance_id) AS inbox,
        (SELECT json_agg(json_build_object('step', t.step, 'owner', t.lease_owner, 'token', t.lease_token,
            'left_ms', t.lease_expires_at - (extract(epoch FROM now()) * 1000)::bigint))
          FROM "${schema}".activity_tasks t WHERE t.instance_id = i.instance_id) AS tasks
      FROM "${schema}".instances i WHERE i.status <> 'Completed' ORDER BY i.instance_id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => JSON.stringify(r)).join("\n");
}

/** The stored history of some instances, one event a line, for failure messages. */
export async function historyDump(db: TestDatabase, schema: string, ids: string[]): Promise<string> {
  const { rows } = await db.query(
    `SELECT instance_id, idx, event FROM "${schema}".history WHERE instance_id = ANY($1::text[]) ORDER BY instance_id, idx`,
    [ids],
  );
  return rows
    .map((r: { instance_id: string; idx: number; event: string }) => `${r.instance_id} ${r.idx} ${r.event}`)
    .join("\n");
}

/**
 * Activity starts that came after their step's result was recorded (the TaskCompleted's
 * timestamp is the time of the episode that recorded it, before its commit): a completed
 * step run again. Only meaningful where no live worker can be overtaken (the chaos test).
 */
export async function startsAfterCompletion(
  db: TestDatabase,
  schema: string,
  lines: ActivityLogLine[],
): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT instance_id, (event::json ->> 'step')::int AS step, (event::json ->> 'timestamp')::bigint AS at
      FROM "${schema}".history WHERE event::json ->> 'type' = 'TaskCompleted'`,
  );
  const recordedAt = new Map<string, number>();
  for (const r of rows as { instance_id: string; step: number; at: string }[]) {
    recordedAt.set(`${r.instance_id}#${r.step}`, Number(r.at));
  }
  return lines
    .filter((l) => l.e === "s" && l.t > (recordedAt.get(`${l.i}#${l.s}`) ?? Number.POSITIVE_INFINITY))
    .map(
      (l) =>
        `${l.i} step ${l.s} started by ${l.p} at ${l.t}, after it was recorded at ${recordedAt.get(`${l.i}#${l.s}`)}`,
    );
}
