-- Perdure SQLite schema, version 3: durable entities.
-- entities: one row per entity (name, key), created when its first message is sent. state
-- is JSON (has_state = 0: never written, or deleted; operations then see the initial
-- state). lock_owner/lock_execution: the orchestration execution whose critical section
-- holds the entity. lease_*: the worker applying its messages, fenced by lease_token as
-- instances are; every batch commit advances the token.
-- entity_messages: what waits for an entity, applied in id order: kind 'operation' (a
-- signal, or a two-way call answered at reply_step in the sender's inbox), 'lock' (a
-- critical section's request; lock_set lists all its entities, sorted, each forwarding it
-- to the next) or 'unlock'. visible_at delays a scheduled signal.

CREATE TABLE entities (
  entity_name      TEXT NOT NULL,
  entity_key       TEXT NOT NULL,
  state            TEXT,
  has_state        INTEGER NOT NULL DEFAULT 0,
  last_modified    INTEGER,
  lock_owner       TEXT,
  lock_execution   TEXT,
  lease_owner      TEXT,
  lease_token      INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  PRIMARY KEY (entity_name, entity_key)
) WITHOUT ROWID;
CREATE INDEX entities_by_lock_owner ON entities (lock_owner) WHERE lock_owner IS NOT NULL;
CREATE INDEX entities_by_lease_owner ON entities (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE entity_messages (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  entity_name      TEXT NOT NULL,
  entity_key       TEXT NOT NULL,
  kind             TEXT NOT NULL,
  operation        TEXT,
  input            TEXT,
  sender_instance  TEXT,
  sender_execution TEXT,
  reply_step       INTEGER,
  lock_set         TEXT,
  visible_at       INTEGER NOT NULL
);
CREATE INDEX entity_messages_by_entity ON entity_messages (entity_name, entity_key, id);
CREATE INDEX entity_messages_by_visible ON entity_messages (visible_at);
CREATE INDEX entity_messages_lock_requests ON entity_messages (sender_instance) WHERE kind = 'lock';
