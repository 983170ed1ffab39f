import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import { toFailureDetails } from "../../errors/failure.js";
import type { HistoryEvent, IncomingEvent } from "../../history/events.js";
import { encode } from "../../history/serialization.js";
import { type EpisodeCommit, type EpisodeCommitResult, isTerminal, type NewInstance } from "../store.js";
import { sendOnly, type Tx } from "./connection.js";
import type { InstanceOperations, Message, ParentRow, Tables } from "./instances.js";

/** An episode with its values already serialised: a value that cannot be stored fails here, before any SQL. */
export interface PreparedEpisode {
  commit: EpisodeCommit;
  output: string | null;
  failure: string | null;
  customStatus: string | null;
  taskInputs: (string | null)[];
  continueAsNewInput: string | null;
}

export function prepareEpisode(c: EpisodeCommit): PreparedEpisode {
  const finished = isTerminal(c.status);
  const running = !finished && !c.continueAsNew;
  // Sub-orchestration inputs are checked here too, so that a bad one fails its own episode only.
  if (running) for (const child of c.newInstances) encode(child.input, "input");
  return {
    commit: c,
    output: c.status === "Completed" ? encode(c.output, "output") : null,
    failure: c.failure ? JSON.stringify(c.failure) : null,
    customStatus: c.customStatus ? encode(c.customStatus.value, "customStatus") : null,
    taskInputs: running ? c.newTasks.map((task) => encode(task.input, "input")) : [],
    continueAsNewInput: c.continueAsNew ? encode(c.continueAsNew.input, "continueAsNew input") : null,
  };
}

/** What a batch changed that other workers and clients may want to hear about. */
export interface BatchSignal {
  /** Work became due that another worker could pick up (messages, unleased tasks, instances). */
  work: boolean;
  /** Instances that finished, for clients waiting on them. */
  finished: { instanceId: string; status: string }[];
}

/**
 * Writes a batch of episodes of distinct instances in a fixed number of statements: the
 * fencing UPDATE of every instance first (locking rows in id order, so two batches never
 * deadlock), then the writes of the episodes that passed it, a statement per kind of row
 * for the whole batch. Equivalent to committing the episodes one after the other.
 */
export function episodeBatch(t: Tables, instances: InstanceOperations) {
  const sql = {
    fence: `WITH c AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::text[], $6::int[], $7::int[],
          $8::text[], $9::text[], $10::text[], $11::bool[], $12::text[], $13::bigint[], $14::bigint[], $15::bool[],
          $16::bigint[], $17::bigint[])
        AS c(instance_id, worker_id, lease_token, acquire, execution_id, history_length, new_length, status, output,
          failure, set_custom, custom_status, now, completed_at, release, lease_expires_at, new_token)),
      locked AS (SELECT instance_id FROM ${t.instances} WHERE instance_id = ANY($1::text[]) ORDER BY instance_id FOR UPDATE)
      UPDATE ${t.instances} i SET status = c.status, output = c.output, failure = c.failure,
        custom_status = CASE WHEN c.set_custom THEN c.custom_status ELSE i.custom_status END,
        updated_at = c.now, completed_at = c.completed_at, history_length = c.new_length, lease_token = c.new_token,
        lease_owner = CASE WHEN c.release THEN NULL ELSE c.worker_id END,
        lease_expires_at = CASE WHEN c.release THEN NULL ELSE c.lease_expires_at END
      FROM c WHERE i.instance_id = c.instance_id AND i.instance_id IN (SELECT instance_id FROM locked)
        AND i.lease_token = c.lease_token
        AND (i.lease_owner = c.worker_id OR (c.acquire AND (i.lease_owner IS NULL OR i.lease_expires_at < c.now)))
        AND i.execution_id = c.execution_id AND i.history_length = c.history_length
      RETURNING i.instance_id, i.name, i.parent_instance_id, i.parent_execution_id, i.parent_step, i.parent_attempt`,
    consume: `DELETE FROM ${t.inbox} m USING unnest($1::bigint[], $2::text[]) AS d(id, instance_id)
      WHERE m.id = d.id AND m.instance_id = d.instance_id`,
    completeTasks: `DELETE FROM ${t.tasks} k USING unnest($1::bigint[], $2::text[]) AS d(id, instance_id)
      WHERE k.id = d.id AND k.instance_id = d.instance_id`,
    appendHistory: `INSERT INTO ${t.history} (instance_id, idx, event) SELECT * FROM unnest($1::text[], $2::int[], $3::text[])`,
    cancelTimers: `DELETE FROM ${t.inbox} m USING unnest($1::text[], $2::int[]) AS d(instance_id, step)
      WHERE m.instance_id = d.instance_id AND m.kind = 'TimerFired' AND m.timer_step = d.step`,
    // Identity values follow the ORDER BY, so the returned ids sorted are the tasks in order.
    insertTasks: `INSERT INTO ${t.tasks} (instance_id, execution_id, step, attempt, name, input, visible_at,
        lease_owner, lease_token, lease_expires_at, queue)
      SELECT r.instance_id, r.execution_id, r.step, r.attempt, r.name, r.input, r.now, r.owner, 1, r.expires, r.queue
      FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[],
          $10::text[])
        WITH ORDINALITY AS r(instance_id, execution_id, step, attempt, name, input, now, owner, expires, queue, ord)
      ORDER BY r.ord RETURNING id`,
    limitedQueues: `SELECT name FROM ${t.queues} WHERE name = ANY($1::text[])`,
    deleteHistoryOf: `DELETE FROM ${t.history} WHERE instance_id = $1`,
    deleteTasksOf: `DELETE FROM ${t.tasks} WHERE instance_id = $1`,
    dropOldMessages: `DELETE FROM ${t.inbox} WHERE instance_id = $1 AND execution_id = $2 AND (NOT $3 OR kind <> 'EventRaised')`,
    // Events still in the inbox arrived after the carried-over ones (those reached history):
    // queue them again after those, in their order, so that events of one name keep it.
    requeueKept: `WITH kept AS (DELETE FROM ${t.inbox} WHERE instance_id = $1 AND execution_id = $2
        RETURNING id, visible_at, kind, timer_step, event)
      INSERT INTO ${t.inbox} (instance_id, execution_id, visible_at, kind, timer_step, event)
      SELECT $1, $3, visible_at, kind, timer_step, event FROM kept ORDER BY id`,
    restart: `UPDATE ${t.instances} SET execution_id = $1, input = $2, history_length = 0, custom_status = NULL
      WHERE instance_id = $3`,
  };

  /** Starts the next execution of an instance that continued as new. */
  const continueAsNew = (tx: Tx, p: PreparedEpisode, name: string): void => {
    const c = p.commit;
    const next = c.continueAsNew as NonNullable<EpisodeCommit["continueAsNew"]>;
    sendOnly(tx.query(sql.deleteHistoryOf, [c.instanceId]));
    sendOnly(tx.query(sql.deleteTasksOf, [c.instanceId]));
    sendOnly(tx.query(sql.dropOldMessages, [c.instanceId, c.executionId, next.preserveUnprocessedEvents]));
    sendOnly(tx.query(sql.restart, [next.executionId, p.continueAsNewInput, c.instanceId]));
    const started: Extract<HistoryEvent, { type: "ExecutionStarted" }> = {
      type: "ExecutionStarted",
      timestamp: c.now,
      name,
      input: next.input,
      executionId: next.executionId,
    };
    if (next.parent) started.parent = next.parent;
    const events: IncomingEvent[] = [started, ...next.carryOverEvents];
    sendOnly(
      instances.send(
        tx,
        events.map((event) => ({ instanceId: c.instanceId, executionId: next.executionId, event, visibleAt: c.now })),
      ),
    );
    sendOnly(tx.query(sql.requeueKept, [c.instanceId, c.executionId, next.executionId]));
  };

  return {
    /** Writes the episodes (of distinct instances) and returns a result per episode, in order. */
    async apply(tx: Tx, batch: PreparedEpisode[], signal: BatchSignal): Promise<EpisodeCommitResult[]> {
      const cs = batch.map((p) => p.commit);
      // Eager starts create their instances first. A refused one cannot pass the fence below
      // (the row there, if any, is of another execution) and is answered with the refusal.
      const createRefusals = new Map<EpisodeCommit, Error>();
      const creating = cs.filter((c) => c.create);
      if (creating.length > 0) {
        const requests = creating.map((c) => c.create as NewInstance);
        const refused = await instances.create(tx, requests, { startMessage: false });
        creating.forEach((c, i) => {
          const error = refused[i];
          if (error) createRefusals.set(c, error);
        });
      }
      const newToken = (c: EpisodeCommit): number => (c.acquireLease ? c.leaseToken + 1 : c.leaseToken);
      // Which of the queues of tasks asking for the fast path have limits (those get no lease
      // here): sent ahead of the fence, so its answer comes with the fence's.
      const asked = new Set(cs.flatMap((c) => c.newTasks.filter((k) => k.leaseToCommitter).map(queueOf)));
      const limitedQuery = asked.size > 0 ? tx.query<{ name: string }>(sql.limitedQueues, [[...asked]]) : undefined;
      limitedQuery?.catch(() => undefined);
      const fenced = await tx.query<ParentRow & { name: string }>(sql.fence, [
        cs.map((c) => c.instanceId),
        cs.map((c) => c.workerId),
        cs.map((c) => c.leaseToken),
        cs.map((c) => c.acquireLease),
        cs.map((c) => c.executionId),
        cs.map((c) => c.historyLength),
        cs.map((c) => c.historyLength + c.newEvents.length),
        cs.map((c) => c.status),
        batch.map((p) => p.output),
        batch.map((p) => p.failure),
        cs.map((c) => c.customStatus !== undefined),
        batch.map((p) => p.customStatus),
        cs.map((c) => c.now),
        cs.map((c) => (isTerminal(c.status) ? c.now : null)),
        cs.map((c) => c.releaseLease || isTerminal(c.status)),
        cs.map((c) => c.leaseExpiresAt),
        cs.map(newToken),
      ]);
      const limited = new Set(limitedQuery ? (await limitedQuery).rows.map((r) => r.name) : []);
      const leasedOf = (c: EpisodeCommit): boolean[] =>
        c.newTasks.map((k) => k.leaseToCommitter && !limited.has(queueOf(k)));
      const rows = new Map(fenced.rows.map((r) => [r.instance_id, r]));
      const passed = batch.filter((p) => rows.has(p.commit.instanceId));
      const results: EpisodeCommitResult[] = cs.map((c) => {
        const refusal = createRefusals.get(c);
        if (refusal) return { ok: false, reason: "refused", error: refusal };
        return rows.has(c.instanceId)
          ? { ok: true, taskIds: [], leased: [], leaseToken: newToken(c) }
          : { ok: false, reason: "lease-lost" };
      });
      if (passed.length === 0) return results;

      const consumed = passed.flatMap((p) => p.commit.consumedMessageIds.map((id) => [id, p.commit.instanceId]));
      // From here on, statements are sent without waiting for their answers (see sendOnly),
      // except where a result decides what comes next: they travel with the COMMIT.
      if (consumed.length > 0) sendOnly(tx.query(sql.consume, columns(consumed, 2)));
      const completed = passed.flatMap((p) => (p.commit.completedTaskIds ?? []).map((id) => [id, p.commit.instanceId]));
      if (completed.length > 0) sendOnly(tx.query(sql.completeTasks, columns(completed, 2)));

      const restarted = passed.filter((p) => p.commit.continueAsNew);
      for (const p of restarted) continueAsNew(tx, p, rows.get(p.commit.instanceId)?.name ?? "");
      const appending = passed.filter((p) => !p.commit.continueAsNew);
      const events = appending.flatMap((p) =>
        p.commit.newEvents.map((e, i) => [p.commit.instanceId, p.commit.historyLength + i, JSON.stringify(e)]),
      );
      if (events.length > 0) sendOnly(tx.query(sql.appendHistory, columns(events, 3)));

      // Finished: nothing more can happen to them; drop what still waits, tell parents.
      const finished = appending.filter((p) => isTerminal(p.commit.status));
      sendOnly(
        instances.clearPending(
          tx,
          finished.map((p) => p.commit.instanceId),
        ),
      );
      const messages: Message[] = await instances.parentNotices(
        tx,
        finished.map((p) => ({
          row: rows.get(p.commit.instanceId) as ParentRow,
          outcome: p.commit.status === "Completed" ? { output: p.commit.output } : { failure: failureOf(p.commit) },
          now: p.commit.now,
        })),
      );
      for (const p of finished) signal.finished.push({ instanceId: p.commit.instanceId, status: p.commit.status });

      const running = appending.filter((p) => !isTerminal(p.commit.status));
      const cancelled = running.flatMap((p) => p.commit.cancelledTimers.map((step) => [p.commit.instanceId, step]));
      if (cancelled.length > 0) sendOnly(tx.query(sql.cancelTimers, columns(cancelled, 2)));
      const position = new Map(batch.map((p, i) => [p, i]));
      for (const p of running) {
        const result = results[position.get(p) ?? -1];
        if (result?.ok) result.leased = leasedOf(p.commit);
      }
      // Its ids are filled in when the answer comes, before the transaction reports its commit.
      sendOnly(insertTasks(tx, running, (p) => results[position.get(p) ?? -1]));
      const children: { parent: EpisodeCommit; child: NewInstance }[] = running.flatMap((p) =>
        p.commit.newInstances.map((child) => ({ parent: p.commit, child })),
      );
      const refusals = await instances.create(
        tx,
        children.map((x) => x.child),
      );
      children.forEach(({ parent: c, child }, i) => {
        const refusal = refusals[i];
        if (!refusal || !child.parent) return;
        const { step, attempt } = child.parent;
        const event: IncomingEvent = {
          type: "SubOrchestrationInstanceFailed",
          timestamp: c.now,
          step,
          attempt,
          failure: toFailureDetails(refusal),
        };
        messages.push({ instanceId: c.instanceId, executionId: c.executionId, event, visibleAt: c.now });
      });
      for (const p of running) {
        const c = p.commit;
        for (const timer of c.newTimers) {
          const event = {
            type: "TimerFired" as const,
            timestamp: timer.fireAt,
            step: timer.step,
            fireAt: timer.fireAt,
          };
          messages.push({ instanceId: c.instanceId, executionId: c.executionId, event, visibleAt: timer.fireAt });
        }
      }
      sendOnly(instances.send(tx, messages));

      if (
        messages.length > 0 ||
        restarted.length > 0 ||
        refusals.some((r) => r === undefined) ||
        running.some((p) => leasedOf(p.commit).some((leased) => !leased))
      ) {
        signal.work = true;
      }
      return results;
    },
  };

  /** Inserts the new activity tasks of running episodes and fills in their ids. */
  async function insertTasks(
    tx: Tx,
    running: PreparedEpisode[],
    resultOf: (p: PreparedEpisode) => EpisodeCommitResult | undefined,
  ): Promise<void> {
    const rows = running.flatMap((p) => {
      const result = resultOf(p);
      const leasedTasks = result?.ok ? result.leased : [];
      return p.commit.newTasks.map((task, i) => {
        const c = p.commit;
        const leased = leasedTasks[i] === true;
        return [
          c.instanceId,
          c.executionId,
          task.step,
          task.attempt,
          task.name,
          p.taskInputs[i],
          c.now,
          leased ? c.workerId : null,
          leased ? c.leaseExpiresAt : null,
          queueOf(task),
        ];
      });
    });
    if (rows.length === 0) return;
    const inserted = await tx.query<{ id: number }>(sql.insertTasks, columns(rows, 10));
    const ids = inserted.rows.map((r) => r.id).sort((a, b) => a - b);
    let next = 0;
    for (const p of running) {
      const result = resultOf(p);
      if (result?.ok) result.taskIds = ids.slice(next, next + p.commit.newTasks.length);
      next += p.commit.newTasks.length;
    }
  }
}

function queueOf(task: EpisodeCommit["newTasks"][number]): string {
  return task.queue ?? DEFAULT_QUEUE;
}

/** Rows to columns: the parameters of an `unnest($1, $2, …)`. */
function columns(rows: unknown[][], width: number): unknown[][] {
  return Array.from({ length: width }, (_, k) => rows.map((row) => row[k]));
}

function failureOf(c: EpisodeCommit) {
  return c.failure ?? { name: "Error", message: `Instance ended as ${c.status}` };
}
