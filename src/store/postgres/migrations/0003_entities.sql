-- Perdure PostgreSQL schema, version 3: durable entities. Applied with search_path set to
-- the store's schema. The same tables as the SQLite store:
-- entities: one row per entity (name, key), created when its first message is sent. state
-- is JSON text (has_state false: never written, or deleted; operations then see the
-- initial state). lock_owner/lock_execution: the orchestration execution whose critical
-- section holds the entity. lease_*: the worker applying its messages, fenced by
-- lease_token as instances are; every batch commit advances the token.
-- entity_messages: what waits for an entity, applied in id order: kind 'operation' (a
-- signal, or a two-way call answered at reply_step in the sender's inbox), 'lock' (a
-- critical section's request; lock_set lists all its entities, sorted, each forwarding it
-- to the next) or 'unlock'. visible_at delays a scheduled signal.
-- Names and keys use the "C" collation: listing pages and key prefixes compare code
-- points, as in SQLite.

CREATE TABLE entities (
  entity_name      text COLLATE "C" NOT NULL,
  entity_key       text COLLATE "C" NOT NULL,
  state            text,
  has_state        boolean NOT NULL DEFAULT false,
  last_modified    bigint,
  lock_owner       text COLLATE "C",
  lock_execution   text,
  lease_owner      text,
  lease_token      bigint NOT NULL DEFAULT 0,
  lease_expires_at bigint,
  PRIMARY KEY (entity_name, entity_key)
);
CREATE INDEX entities_by_lock_owner ON entities (lock_owner) WHERE lock_owner IS NOT NULL;
CREATE INDEX entities_by_lease_owner ON entities (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE entity_messages (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  entity_name      text COLLATE "C" NOT NULL,
  entity_key       text COLLATE "C" NOT NULL,
  kind             text NOT NULL,
  operation        text,
  input            text,
  sender_instance  text COLLATE "C",
  sender_execution text,
  reply_step       integer,
  lock_set         text,
  visible_at       bigint NOT NULL
);
CREATE INDEX entity_messages_by_entity ON entity_messages (entity_name, entity_key, id);
CREATE INDEX entity_messages_by_visible ON entity_messages (visible_at);
CREATE INDEX entity_messages_lock_requests ON entity_messages (sender_instance) WHERE kind = 'lock';
