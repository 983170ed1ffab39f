-- Perdure SQLite schema, version 7: the activity tasks a worker runs itself (the fast path:
-- leased to the worker that committed them, run at once, their result in its next commit)
-- live in a table of their own. In activity_tasks each one was inserted into and deleted from
-- the table and two indexes: 3 of the ~8 pages of a sequential workflow's commit. Here it is
-- one page: the table is keyed by instance, and holds only tasks running now (at most the
-- workers' maxConcurrentActivities), so that the few reads by worker or by lease expiry scan it.
-- A held task whose lease ends (its worker died) or is released moves to activity_tasks as it
-- is, where claims find it as before.
CREATE TABLE held_tasks (
  instance_id      TEXT NOT NULL,
  id               INTEGER NOT NULL,
  execution_id     TEXT NOT NULL,
  step             INTEGER NOT NULL,
  attempt          INTEGER NOT NULL,
  name             TEXT NOT NULL,
  input            TEXT,
  visible_at       INTEGER NOT NULL,
  lease_owner      TEXT NOT NULL,
  lease_token      INTEGER NOT NULL,
  lease_expires_at INTEGER NOT NULL,
  queue            TEXT NOT NULL,
  PRIMARY KEY (instance_id, id)
) WITHOUT ROWID;
