-- Perdure SQLite schema, version 6: one index fewer on activity_tasks.
-- activity_tasks_by_lease_expiry (lease_expires_at, leased tasks) served the next-due-time
-- query only; that query now reads activity_tasks_leased_by_queue (queue, lease_expires_at),
-- which holds the same rows. Every task a worker runs was inserted into and deleted from
-- both: ~4 WAL pages of the ~48 a sequential 3-activity workflow writes.
DROP INDEX activity_tasks_by_lease_expiry;
