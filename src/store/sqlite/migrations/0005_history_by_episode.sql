-- Perdure SQLite schema, version 5: history rows by episode, under an integer instance key.
-- instances.id: a stable integer key (an alias of the rowid, which VACUUM would otherwise
-- renumber), given in creation order. history: one row per append (an episode's events, or
-- one event a client added), `events` a JSON array of the events from index `idx` on.
-- Why: history used to be keyed by (instance_id text, idx), one row per event. Instance ids
-- are random, so each commit wrote its events into random pages of the whole history tree:
-- with 500 instances in flight, ~9 of the ~10 WAL pages written per workflow were history
-- pages. Rows appended in commit order fill the last page of the table, and the index on
-- (integer key, idx) of the instances in flight is a few pages at its end: ~1 history page
-- per workflow. One row per episode also makes 4 inserts of a 3-activity chain, not 12.

CREATE TABLE instances_v5 (
  id               INTEGER PRIMARY KEY,
  instance_id      TEXT NOT NULL UNIQUE,
  name             TEXT NOT NULL,
  execution_id     TEXT NOT NULL,
  status           TEXT NOT NULL,
  input            TEXT,
  output           TEXT,
  custom_status    TEXT,
  failure          TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  completed_at     INTEGER,
  history_length   INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_token      INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  parent_instance_id  TEXT,
  parent_execution_id TEXT,
  parent_step         INTEGER,
  parent_attempt      INTEGER,
  queue            TEXT NOT NULL DEFAULT 'default'
);
INSERT INTO instances_v5 (id, instance_id, name, execution_id, status, input, output, custom_status, failure,
  created_at, updated_at, completed_at, history_length, lease_owner, lease_token, lease_expires_at,
  parent_instance_id, parent_execution_id, parent_step, parent_attempt, queue)
SELECT rowid, instance_id, name, execution_id, status, input, output, custom_status, failure,
  created_at, updated_at, completed_at, history_length, lease_owner, lease_token, lease_expires_at,
  parent_instance_id, parent_execution_id, parent_step, parent_attempt, queue
FROM instances ORDER BY rowid;

CREATE TABLE history_v5 (
  id           INTEGER PRIMARY KEY,
  instance     INTEGER NOT NULL,
  idx          INTEGER NOT NULL,
  events       TEXT NOT NULL
);
-- Each old event becomes a row of one event: the events of a row are contiguous, nothing more.
INSERT INTO history_v5 (instance, idx, events)
SELECT i.id, h.idx, '[' || h.event || ']'
FROM history h JOIN instances_v5 i ON i.instance_id = h.instance_id
ORDER BY i.id, h.idx;

DROP TABLE history;
DROP TABLE instances;
ALTER TABLE instances_v5 RENAME TO instances;
ALTER TABLE history_v5 RENAME TO history;

CREATE UNIQUE INDEX history_by_instance ON history (instance, idx);
CREATE INDEX instances_by_parent ON instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;
CREATE INDEX instances_by_status ON instances (status, created_at);
CREATE INDEX instances_by_created ON instances (created_at);
CREATE INDEX instances_by_name ON instances (name, created_at);
CREATE INDEX instances_by_lease_owner ON instances (lease_owner) WHERE lease_owner IS NOT NULL;

-- Every task a worker runs was inserted into, and deleted from, this index as well as
-- activity_tasks_leased_by_queue, which holds the same rows (the leased ones): renewals and
-- releases by owner scan that one instead (a worker's leased tasks are at most a few hundred).
DROP INDEX activity_tasks_by_lease_owner;
