-- Perdure SQLite schema, version 1.
-- instances: one row per instance id; lease_* fence workers (a commit must carry the
-- current lease_token). history: append-only events. inbox: future history events waiting
-- for their instance (results, timers, events), visible from visible_at. activity_tasks: activity
-- executions to run, leased by the worker running them.

CREATE TABLE instances (
  instance_id      TEXT PRIMARY KEY,
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
  parent_attempt      INTEGER
);
CREATE INDEX instances_by_parent ON instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;
CREATE INDEX instances_by_status ON instances (status, created_at);
CREATE INDEX instances_by_created ON instances (created_at);
CREATE INDEX instances_by_name ON instances (name, created_at);
CREATE INDEX instances_by_lease_owner ON instances (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE history (
  instance_id TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  event       TEXT NOT NULL,
  PRIMARY KEY (instance_id, idx)
) WITHOUT ROWID;

CREATE TABLE inbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id  TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  visible_at   INTEGER NOT NULL,
  event        TEXT NOT NULL
);
CREATE INDEX inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX inbox_by_visible ON inbox (visible_at);

CREATE TABLE activity_tasks (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id      TEXT NOT NULL,
  execution_id     TEXT NOT NULL,
  step             INTEGER NOT NULL,
  attempt          INTEGER NOT NULL,
  name             TEXT NOT NULL,
  input            TEXT,
  visible_at       INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_token      INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER
);
CREATE INDEX activity_tasks_claimable ON activity_tasks (visible_at) WHERE lease_owner IS NULL;
CREATE INDEX activity_tasks_by_lease_expiry ON activity_tasks (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX activity_tasks_by_instance ON activity_tasks (instance_id);
CREATE INDEX activity_tasks_by_lease_owner ON activity_tasks (lease_owner) WHERE lease_owner IS NOT NULL;
