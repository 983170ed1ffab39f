-- Perdure SQLite schema, version 4: the recent operations of each entity.
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

ALTER TABLE entity_messages ADD COLUMN sender_entity_name TEXT;
ALTER TABLE entity_messages ADD COLUMN sender_entity_key TEXT;

-- A rowid table with an index rather than WITHOUT ROWID: rows of about 1 KB (a batch's
-- entries) made the WITHOUT ROWID table's inserts and prunes 4x slower once each entity's
-- log was full (1,000 entities, one batch each, committed together: 91 ms against 22 ms).
CREATE TABLE entity_operations (
  id          INTEGER PRIMARY KEY,
  entity_name TEXT NOT NULL,
  entity_key  TEXT NOT NULL,
  batch       INTEGER NOT NULL,
  applied_at  INTEGER NOT NULL,
  entries     TEXT NOT NULL
);
CREATE UNIQUE INDEX entity_operations_by_entity ON entity_operations (entity_name, entity_key, batch);
