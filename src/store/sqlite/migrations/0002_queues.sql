-- Perdure SQLite schema, version 2: task queues and their limits.
-- instances.queue and activity_tasks.queue route work: a worker finds instances and claims
-- tasks of the queues it serves only. Rows written before this version are "default".
-- queues: the limits of a queue, shared by every worker of the store; only queues with a
-- limit have a row. tokens and refilled_at are its token bucket (rate limit): the bucket
-- held `tokens` at `refilled_at` and refills at rate_per_second up to burst; a claim
-- computes the current level from them and writes it back less what it took.

ALTER TABLE instances ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE activity_tasks ADD COLUMN queue TEXT NOT NULL DEFAULT 'default';

-- Claims look at one queue at a time: unleased tasks by due time, and (for the
-- concurrency limit and for expired leases) leased tasks by lease expiry.
DROP INDEX activity_tasks_claimable;
CREATE INDEX activity_tasks_claimable ON activity_tasks (queue, visible_at) WHERE lease_owner IS NULL;
CREATE INDEX activity_tasks_leased_by_queue ON activity_tasks (queue, lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE queues (
  name            TEXT PRIMARY KEY,
  concurrency     INTEGER,
  rate_per_second REAL,
  burst           INTEGER,
  tokens          REAL,
  refilled_at     INTEGER
);
