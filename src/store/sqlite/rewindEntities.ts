import type Database from "better-sqlite3";
import type { EntityRewind } from "../../history/rewind.js";
import type { NewEntityMessage } from "../entityStore.js";
import { type EntityReplyEvent, entityMessages, lockTaken, lostAnswer } from "../rewindEntities.js";

interface LockRow {
  lock_owner: string | null;
  lock_execution: string | null;
  active: number;
}

/**
 * The entity side of a rewind on SQLite (see EntityRewind in src/history/rewind.ts), inside
 * the rewind's transaction. `check` runs before anything changes, so that a refused rewind
 * leaves the instance as it was; `apply` runs once the instance's inbox is cleared.
 */
export function rewindEntityOperations(db: Database.Database, send: (messages: NewEntityMessage[]) => void) {
  const lockOf = db.prepare<[string, string], LockRow>(
    `SELECT e.lock_owner, e.lock_execution,
       EXISTS (SELECT 1 FROM instances i WHERE i.instance_id = e.lock_owner AND i.execution_id = e.lock_execution
               AND i.status IN ('Pending', 'Running', 'Suspended', 'ContinuedAsNew')) AS active
     FROM entities e WHERE e.entity_name = ? AND e.entity_key = ?`,
  );
  // A new lease token fences a batch in flight that read the entity unlocked.
  const takeLock = db.prepare(
    `INSERT INTO entities (entity_name, entity_key, lock_owner, lock_execution) VALUES (@name, @key, @owner, @execution)
     ON CONFLICT (entity_name, entity_key) DO UPDATE SET lock_owner = excluded.lock_owner,
       lock_execution = excluded.lock_execution, lease_token = lease_token + 1`,
  );
  const dropUnlocks = db.prepare(
    "DELETE FROM entity_messages WHERE kind = 'unlock' AND sender_instance = ? AND sender_execution = ?",
  );
  const isQueued = db
    .prepare<[string, string, number], number>(
      `SELECT EXISTS (SELECT 1 FROM entity_messages WHERE kind = 'operation' AND sender_instance = ?
         AND sender_execution = ? AND reply_step = ?)`,
    )
    .pluck();
  const inboxReplies = db
    .prepare<[string], string>(
      `SELECT event FROM inbox WHERE instance_id = ?
         AND json_extract(event, '$.type') IN ('EntityOperationCompleted', 'EntityOperationFailed') ORDER BY id`,
    )
    .pluck();

  return {
    /**
     * Refuses what cannot be rewound: a call whose answer is lost (applied while the instance
     * was failed), a section whose entity another orchestration has locked since. Returns the
     * answers waiting in the inbox, which the rewind delivers again.
     */
    check(instanceId: string, executionId: string, plan: EntityRewind): EntityReplyEvent[] {
      const waiting = inboxReplies.all(instanceId).map((text) => JSON.parse(text) as EntityReplyEvent);
      const replies: EntityReplyEvent[] = [];
      for (const call of plan.awaited) {
        const reply = waiting.find((e) => e.step === call.step);
        if (reply) replies.push(reply);
        else if (isQueued.get(instanceId, executionId, call.step) !== 1) throw lostAnswer(instanceId, call);
      }
      if (plan.section?.held) {
        for (const { name, key } of plan.section.entities) {
          const row = lockOf.get(name, key);
          if (row?.lock_owner && row.active === 1)
            throw lockTaken(instanceId, plan.section.step, name, key, row.lock_owner);
        }
      }
      return replies;
    },

    /** Takes the critical section's lock again (or asks for it again), and sends the rewound calls again. */
    apply(instanceId: string, executionId: string, plan: EntityRewind, now: number): void {
      const sender = { instanceId, executionId };
      // The failure released the locks: a release still queued would now release the lock taken again.
      dropUnlocks.run(instanceId, executionId);
      const section = plan.section;
      if (section?.held) {
        for (const { name, key } of section.entities)
          takeLock.run({ name, key, owner: instanceId, execution: executionId });
      }
      send(entityMessages(plan, sender, now));
    },
  };
}
