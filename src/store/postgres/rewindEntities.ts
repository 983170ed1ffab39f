import type { EntityRewind } from "../../history/rewind.js";
import type { NewEntityMessage } from "../entityStore.js";
import { type EntityReplyEvent, entityMessages, lockTaken, lostAnswer } from "../rewindEntities.js";
import type { Tx } from "./connection.js";
import type { EntityTables } from "./entities.js";
import type { Tables } from "./instances.js";

interface LockRow {
  entity_name: string;
  entity_key: string;
  lock_owner: string | null;
  active: boolean;
}

/**
 * The entity side of a rewind on PostgreSQL (see EntityRewind in src/history/rewind.ts),
 * inside the rewind's transaction, which holds the instance's row. `check` runs before
 * anything changes; `apply` once the instance's inbox is cleared.
 *
 * Rows are locked in the order entity commits take them (entities, then their messages), so
 * the two cannot deadlock. Locking a queued call's message makes a batch applying it wait
 * for the rewind, and then deliver its answer to the running instance; a batch that deleted
 * it first committed while the instance was failed, so its answer is lost and the rewind refused.
 */
export function rewindEntityOperations(
  t: Tables,
  e: EntityTables,
  send: (tx: Tx, messages: NewEntityMessage[]) => Promise<void>,
) {
  const sql = {
    lockEntities: `SELECT x.entity_name, x.entity_key, x.lock_owner,
        EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.instance_id = x.lock_owner AND i.execution_id = x.lock_execution
                AND i.status IN ('Pending', 'Running', 'Suspended', 'ContinuedAsNew')) AS active
      FROM ${e.entities} x WHERE (x.entity_name, x.entity_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY x.entity_name, x.entity_key FOR UPDATE OF x`,
    queuedCalls: `SELECT reply_step FROM ${e.messages} WHERE kind = 'operation' AND sender_instance = $1
        AND sender_execution = $2 AND reply_step = ANY($3::int[]) ORDER BY id FOR UPDATE`,
    inboxReplies: `SELECT event FROM ${t.inbox} WHERE instance_id = $1
        AND kind IN ('EntityOperationCompleted', 'EntityOperationFailed') ORDER BY id`,
    // A new lease token fences a batch in flight that read the entity unlocked.
    takeLocks: `INSERT INTO ${e.entities} (entity_name, entity_key, lock_owner, lock_execution)
      SELECT name, key, $3, $4 FROM unnest($1::text[], $2::text[]) AS r(name, key)
      ON CONFLICT (entity_name, entity_key) DO UPDATE SET lock_owner = excluded.lock_owner,
        lock_execution = excluded.lock_execution, lease_token = ${e.entities}.lease_token + 1`,
    dropUnlocks: `DELETE FROM ${e.messages} WHERE kind = 'unlock' AND sender_instance = $1 AND sender_execution = $2`,
  };

  return {
    /**
     * Refuses what cannot be rewound: a section whose entity another orchestration has locked
     * since, a call whose answer is lost (applied while the instance was failed). Returns the
     * answers waiting in the inbox, which the rewind delivers again.
     */
    async check(tx: Tx, instanceId: string, executionId: string, plan: EntityRewind): Promise<EntityReplyEvent[]> {
      const section = plan.section;
      if (section?.held) {
        const { rows } = await tx.query<LockRow>(sql.lockEntities, [
          section.entities.map((x) => x.name),
          section.entities.map((x) => x.key),
        ]);
        const taken = rows.find((r) => r.lock_owner !== null && r.active);
        if (taken)
          throw lockTaken(instanceId, section.step, taken.entity_name, taken.entity_key, `${taken.lock_owner}`);
      }
      if (plan.awaited.length === 0) return [];
      const { rows: queued } = await tx.query<{ reply_step: number }>(sql.queuedCalls, [
        instanceId,
        executionId,
        plan.awaited.map((c) => c.step),
      ]);
      const { rows: inbox } = await tx.query<{ event: string }>(sql.inboxReplies, [instanceId]);
      const waiting = inbox.map((r) => JSON.parse(r.event) as EntityReplyEvent);
      const replies: EntityReplyEvent[] = [];
      for (const call of plan.awaited) {
        const reply = waiting.find((x) => x.step === call.step);
        if (reply) replies.push(reply);
        else if (!queued.some((q) => q.reply_step === call.step)) throw lostAnswer(instanceId, call);
      }
      return replies;
    },

    /** Takes the critical section's lock again (or asks for it again), and sends the rewound calls again. */
    async apply(tx: Tx, instanceId: string, executionId: string, plan: EntityRewind, now: number): Promise<void> {
      // The failure released the locks: a release still queued would now release the lock taken again.
      await tx.query(sql.dropUnlocks, [instanceId, executionId]);
      const section = plan.section;
      if (section?.held) {
        await tx.query(sql.takeLocks, [
          section.entities.map((x) => x.name),
          section.entities.map((x) => x.key),
          instanceId,
          executionId,
        ]);
      }
      await send(tx, entityMessages(plan, { instanceId, executionId }, now));
    },
  };
}
