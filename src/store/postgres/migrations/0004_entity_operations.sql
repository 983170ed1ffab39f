-- Perdure PostgreSQL schema, version 4: the recent operations of each entity. Applied with
-- search_path set to the store's schema. The same tables as the SQLite store:
-- entity_messages.sender_entity_*: the entity whose operation sent a message (a signal
-- from ctx.signalEntity); NULL for messages from orchestrations and clients.
-- entity_operations: a short log per entity of the messages its batches applied, written
-- in the batch's own commit: one row per batch, batch being the lease token it committed
-- under (it only grows), entries a JSON array of what it applied, oldest first — each
-- {kind: 'signal' | 'call' | 'lock' | 'unlock', operation?, sender: {kind: 'orchestration',
-- instanceId} | {kind: 'entity', name, key} | {kind: 'client'}, ok, error?: {name,
-- message}, inputPreview?}. Each commit prunes its entity to its newest rows
-- (ENTITY_OPERATION_LOG_SIZE in src/store/entityStore.ts); cleanEntityStorage deletes the
-- log of the entities it removes. See src/store/entityLogRows.ts for why a row per batch.

ALTER TABLE entity_messages ADD COLUMN sender_entity_name text;
ALTER TABLE entity_messages ADD COLUMN sender_entity_key text;

CREATE TABLE entity_operations (
  entity_name text COLLATE "C" NOT NULL,
  entity_key  text COLLATE "C" NOT NULL,
  batch       bigint NOT NULL,
  applied_at  bigint NOT NULL,
  entries     text NOT NULL,
  PRIMARY KEY (entity_name, entity_key, batch)
);
