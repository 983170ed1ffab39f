-- Perdure PostgreSQL schema, version 1. Applied with search_path set to the store's schema.
-- Same tables as the SQLite store: instances (one row per instance id; lease_* fence
-- workers: a commit must carry the current lease_token), history (append-only events),
-- inbox (future history events, visible from visible_at), activity_tasks (activity
-- executions, leased by the worker running them). Values are JSON in text columns, so they
-- read back byte for byte as written; times are milliseconds since the epoch.
-- Instance ids use the "C" collation: ordering and prefix ranges compare code points, as in
-- SQLite, whatever the database's locale.

CREATE TABLE instances (
  instance_id         text COLLATE "C" PRIMARY KEY,
  name                text NOT NULL,
  execution_id        text NOT NULL,
  status              text NOT NULL,
  input               text,
  output              text,
  custom_status       text,
  failure             text,
  created_at          bigint NOT NULL,
  updated_at          bigint NOT NULL,
  completed_at        bigint,
  history_length      integer NOT NULL DEFAULT 0,
  lease_owner         text,
  lease_token         bigint NOT NULL DEFAULT 0,
  lease_expires_at    bigint,
  parent_instance_id  text COLLATE "C",
  parent_execution_id text,
  parent_step         integer,
  parent_attempt      integer
);
CREATE INDEX instances_by_parent ON instances (parent_instance_id) WHERE parent_instance_id IS NOT NULL;
CREATE INDEX instances_by_status ON instances (status, created_at);
CREATE INDEX instances_by_created ON instances (created_at, instance_id);
CREATE INDEX instances_by_name ON instances (name, created_at);
CREATE INDEX instances_by_lease_owner ON instances (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX instances_by_lease_expiry ON instances (lease_expires_at) WHERE lease_owner IS NOT NULL;

CREATE TABLE history (
  instance_id text COLLATE "C" NOT NULL,
  idx         integer NOT NULL,
  event       text NOT NULL,
  PRIMARY KEY (instance_id, idx)
);

-- kind is the event's type and timer_step the step of a TimerFired event: cancelling a
-- timer or keeping raised events needs them without parsing the JSON.
CREATE TABLE inbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id  text COLLATE "C" NOT NULL,
  execution_id text NOT NULL,
  visible_at   bigint NOT NULL,
  kind         text NOT NULL,
  timer_step   integer,
  event        text NOT NULL
);
CREATE INDEX inbox_by_instance ON inbox (instance_id, id);
CREATE INDEX inbox_by_visible ON inbox (visible_at);

CREATE TABLE activity_tasks (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id      text COLLATE "C" NOT NULL,
  execution_id     text NOT NULL,
  step             integer NOT NULL,
  attempt          integer NOT NULL,
  name             text NOT NULL,
  input            text,
  visible_at       bigint NOT NULL,
  lease_owner      text,
  lease_token      bigint NOT NULL DEFAULT 0,
  lease_expires_at bigint
);
-- A claim looks at unleased tasks and at expired leases only: most tasks are leased to
-- the worker that runs them, and the claim must not scan past them.
CREATE INDEX activity_tasks_claimable ON activity_tasks (visible_at, id) WHERE lease_owner IS NULL;
CREATE INDEX activity_tasks_by_lease_expiry ON activity_tasks (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX activity_tasks_by_instance ON activity_tasks (instance_id);
CREATE INDEX activity_tasks_by_lease_owner ON activity_tasks (lease_owner) WHERE lease_owner IS NOT NULL;
