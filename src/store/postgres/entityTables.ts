import type { Tables } from "./instances.js";

/** Qualified names of the entity tables of one store's schema. */
export interface EntityTables {
  entities: string;
  messages: string;
  operations: string;
}

export function entityTablesIn(quotedSchema: string): EntityTables {
  return {
    entities: `${quotedSchema}.entities`,
    messages: `${quotedSchema}.entity_messages`,
    operations: `${quotedSchema}.entity_operations`,
  };
}

/** A row of `entities`. */
export interface EntityRow {
  entity_name: string;
  entity_key: string;
  state: string | null;
  has_state: boolean;
  last_modified: number | null;
  lock_owner: string | null;
  lock_execution: string | null;
  lease_token: number;
}

/** SQL builder: the orchestration execution named by two SQL expressions is still active (may receive messages, hold locks). */
export function activeExecution(t: Tables): (instance: string, execution: string) => string {
  return (instance, execution) =>
    `EXISTS (SELECT 1 FROM ${t.instances} i WHERE i.instance_id = ${instance} AND i.execution_id = ${execution}
       AND i.status IN ('Pending', 'Running', 'Suspended', 'ContinuedAsNew'))`;
}
