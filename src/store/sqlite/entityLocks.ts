import type Database from "better-sqlite3";
import { forcedUnlocks } from "../entityLogRows.js";
import { type EpisodeCommit, isTerminal } from "../store.js";
import type { entityLogOperations } from "./entityLog.js";

/** An entity whose lock an ended orchestration lost, with the lease token it had until then. */
interface Released {
  name: string;
  key: string;
  leaseToken: number;
}
// The token before the release's bump numbers the log row (see forcedUnlocks).
const releasedColumns = "entity_name AS name, entity_key AS key, lease_token - 1 AS leaseToken";

/**
 * The locks and lock requests of orchestrations that end (or are terminated) holding or
 * awaiting them: the locks are taken away, each logged as an unlock by its holder, and the
 * requests dropped. Runs inside the caller's transaction.
 */
export function entityLockOperations(db: Database.Database, log: ReturnType<typeof entityLogOperations>) {
  // Both through partial indexes (entities_by_lock_owner, entity_messages_lock_requests).
  const anyLockOrRequest = db
    .prepare<[], number>(
      `SELECT EXISTS (SELECT 1 FROM entities WHERE lock_owner IS NOT NULL)
           OR EXISTS (SELECT 1 FROM entity_messages WHERE kind = 'lock')`,
    )
    .pluck();
  const releaseLocksOfExecution = db.prepare<[string, string], Released>(
    `UPDATE entities SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
     WHERE lock_owner = ? AND lock_execution = ? RETURNING ${releasedColumns}`,
  );
  const dropLockRequestsOfExecution = db.prepare(
    "DELETE FROM entity_messages WHERE kind = 'lock' AND sender_instance = ? AND sender_execution = ?",
  );
  const releaseLocksOfInstance = db.prepare<[string], Released>(
    `UPDATE entities SET lock_owner = NULL, lock_execution = NULL, lease_token = lease_token + 1
     WHERE lock_owner = ? RETURNING ${releasedColumns}`,
  );
  const dropLockRequestsOfInstance = db.prepare(
    "DELETE FROM entity_messages WHERE kind = 'lock' AND sender_instance = ?",
  );

  return {
    /** The executions that committed episodes ended (finished or continued as new) let go of their locks. */
    releaseEnded(committed: readonly EpisodeCommit[]): void {
      const ended = committed.filter((c) => isTerminal(c.status) || c.continueAsNew);
      // Most stores hold no lock and no lock request at all: one look for the batch, not two
      // statements per ended instance.
      if (ended.length === 0 || anyLockOrRequest.get() !== 1) return;
      for (const c of ended) {
        const released = releaseLocksOfExecution.all(c.instanceId, c.executionId);
        if (released.length > 0) log.append(forcedUnlocks(released, c.instanceId, c.now));
        dropLockRequestsOfExecution.run(c.instanceId, c.executionId);
      }
    },

    /** Termination: the instance's locks go, and so do its pending lock requests. */
    releaseOf(instanceId: string, now: number): void {
      const released = releaseLocksOfInstance.all(instanceId);
      if (released.length > 0) log.append(forcedUnlocks(released, instanceId, now));
      dropLockRequestsOfInstance.run(instanceId);
    },
  };
}
