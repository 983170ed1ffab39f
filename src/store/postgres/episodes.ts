import type { ActivityResultDelivery, EpisodeCommit, EpisodeCommitResult } from "../store.js";
import { type Database, isConnectionError, sendOnly, type Tx } from "./connection.js";
import { type BatchSignal, episodeBatch, type PreparedEpisode, prepareEpisode } from "./episodeBatch.js";
import type { InstanceOperations, Tables } from "./instances.js";

/** Sends the batch's signal to other processes, inside the batch's transaction. */
export type Publish = (tx: Tx, signal: BatchSignal) => Promise<void>;

export function emptySignal(): BatchSignal {
  return { work: false, finished: [] };
}

/**
 * The write path of workers. A group commit is one transaction: normally the whole batch
 * is written set-wise (see episodeBatch.ts), since the fencing check refuses stale episodes
 * without an error. Only if that fails (an episode the database rejects) is the batch
 * written again one episode per savepoint, so that the bad episode is refused alone.
 */
/** Writes more of what episodes produced (their entity messages), inside their transaction. */
export type EpisodeHook = (
  tx: Tx,
  commits: EpisodeCommit[],
  results: EpisodeCommitResult[],
  signal: BatchSignal,
) => Promise<void>;

export function episodeOperations(
  db: Database,
  t: Tables,
  instances: InstanceOperations,
  publish: Publish,
  afterApply: EpisodeHook = async () => undefined,
) {
  const batch = episodeBatch(t, instances);
  const sql = {
    takeTasks: `DELETE FROM ${t.tasks} k USING unnest($1::bigint[], $2::bigint[]) AS d(id, token)
      WHERE k.id = d.id AND k.lease_token = d.token RETURNING k.id, k.lease_token AS token`,
  };

  /** The whole batch in one go. */
  const setWise = (episodes: PreparedEpisode[]) =>
    db.transaction(async (tx) => {
      const signal = emptySignal();
      const results = await batch.apply(tx, episodes, signal);
      await afterApply(
        tx,
        episodes.map((p) => p.commit),
        results,
        signal,
      );
      sendOnly(publish(tx, signal));
      return { results, signal };
    });

  /** One savepoint per episode, in order: an episode that fails is rolled back alone. */
  const oneByOne = (episodes: PreparedEpisode[]) =>
    db.transaction(async (tx) => {
      const signal = emptySignal();
      const results: EpisodeCommitResult[] = [];
      for (const episode of episodes) {
        const own = emptySignal();
        await tx.query("SAVEPOINT perdure_episode");
        try {
          const [result] = await batch.apply(tx, [episode], own);
          await afterApply(tx, [episode.commit], [result as EpisodeCommitResult], own);
          await tx.flush();
          await tx.query("RELEASE SAVEPOINT perdure_episode");
          results.push(result as EpisodeCommitResult);
          signal.work ||= own.work;
          signal.finished.push(...own.finished);
        } catch (error) {
          if (isConnectionError(error)) throw error;
          // Statements of this episode still in flight fail too: wait them out, then undo it.
          await tx.flush().catch(() => undefined);
          await tx.query("ROLLBACK TO SAVEPOINT perdure_episode");
          results.push({ ok: false, reason: "error", error });
        }
      }
      sendOnly(publish(tx, signal));
      return { results, signal };
    });

  return {
    /** Commits episodes in one transaction; a result per episode, in order. */
    async commit(commits: EpisodeCommit[]): Promise<{ results: EpisodeCommitResult[]; signal: BatchSignal }> {
      const results: EpisodeCommitResult[] = [];
      const prepared: PreparedEpisode[] = [];
      const positions: number[] = [];
      commits.forEach((c, i) => {
        try {
          prepared.push(prepareEpisode(c));
          positions.push(i);
        } catch (error) {
          results[i] = { ok: false, reason: "error", error };
        }
      });
      if (prepared.length === 0) return { results, signal: emptySignal() };
      let written: { results: EpisodeCommitResult[]; signal: BatchSignal } | undefined;
      // Two episodes of one instance in a batch must see each other's writes: one by one.
      const distinct = new Set(prepared.map((p) => p.commit.instanceId)).size === prepared.length;
      if (distinct) {
        try {
          written = await setWise(prepared);
        } catch (error) {
          if (isConnectionError(error)) throw error;
        }
      }
      written ??= await oneByOne(prepared);
      positions.forEach((position, k) => {
        results[position] = written.results[k] as EpisodeCommitResult;
      });
      return { results, signal: written.signal };
    },

    /** Records activity outcomes, each only if its task is still leased with the given token. */
    async deliver(deliveries: ActivityResultDelivery[], now: number): Promise<boolean[]> {
      if (deliveries.length === 0) return [];
      return db.transaction(async (tx) => {
        const taken = await tx.query<{ id: number; token: number }>(sql.takeTasks, [
          deliveries.map((d) => d.taskId),
          deliveries.map((d) => d.leaseToken),
        ]);
        // A task delivered twice in one batch is taken once: the first delivery wins.
        const available = new Set(taken.rows.map((r) => `${r.id}:${r.token}`));
        const accepted = deliveries.map((d) => available.delete(`${d.taskId}:${d.leaseToken}`));
        const messages = deliveries
          .filter((_, i) => accepted[i])
          .map((d) => ({ instanceId: d.instanceId, executionId: d.executionId, event: d.event, visibleAt: now }));
        sendOnly(instances.send(tx, messages));
        if (messages.length > 0) sendOnly(publish(tx, { work: true, finished: [] }));
        return accepted;
      });
    },
  };
}
