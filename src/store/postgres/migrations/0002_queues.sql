-- Perdure PostgreSQL schema, version 2: task queues and their limits. Applied with
-- search_path set to the store's schema.
-- instances.queue and activity_tasks.queue route work: a worker finds instances and claims
-- tasks of the queues it serves only. Rows written before this version are "default".
-- queues: the limits of a queue, shared by every worker; only queues with a limit have a
-- row. A claim locks the rows of its limited queues (FOR UPDATE), so concurrent claimers
-- take turns at counting leases and spending tokens. tokens and refilled_at are the token
-- bucket of the rate limit: it held `tokens` at `refilled_at` and refills at
-- rate_per_second up to burst.

ALTER TABLE instances ADD COLUMN queue text NOT NULL DEFAULT 'default';
ALTER TABLE activity_tasks ADD COLUMN queue text NOT NULL DEFAULT 'default';

DROP INDEX activity_tasks_claimable;
CREATE INDEX activity_tasks_claimable ON activity_tasks (queue, visible_at, id) WHERE lease_owner IS NULL;
CREATE INDEX activity_tasks_leased_by_queue ON activity_tasks (queue, lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE queues (
  name            text PRIMARY KEY,
  concurrency     integer,
  rate_per_second double precision,
  burst           integer,
  tokens          double precision,
  refilled_at     bigint
);
