import type { FailureDetails } from "../errors/failure.js";

/** An entity named in history: its definition's name and its key. */
export interface EntityRef {
  name: string;
  key: string;
}

/**
 * The history events of an orchestration's entity calls (part of `HistoryEvent`). The first
 * four record what the code did at a step, so that replay does not do it again; the last
 * three arrive in the inbox from the entity.
 */
export type EntityHistoryEvent =
  /** `ctx.callEntity`: the operation was sent; its outcome arrives at the same step. */
  | {
      type: "EntityCallScheduled";
      timestamp: number;
      step: number;
      name: string;
      key: string;
      operation: string;
      input: unknown;
    }
  /** `ctx.signalEntity`: the operation was sent, one-way. `at`: delivered no earlier than this. */
  | {
      type: "EntitySignalSent";
      timestamp: number;
      step: number;
      name: string;
      key: string;
      operation: string;
      input: unknown;
      at?: number;
    }
  /** `ctx.lockEntities`: a critical section asked for these entities, in this (sorted) order. */
  | { type: "EntityLockRequested"; timestamp: number; step: number; entities: EntityRef[] }
  /** `lock.release()`: the critical section let go of its entities. */
  | { type: "EntityUnlockSent"; timestamp: number; step: number; entities: EntityRef[] }
  | { type: "EntityOperationCompleted"; timestamp: number; step: number; result: unknown }
  | { type: "EntityOperationFailed"; timestamp: number; step: number; failure: FailureDetails }
  /** Every entity of the critical section started at `step` is now locked by this orchestration. */
  | { type: "EntityLockGranted"; timestamp: number; step: number };

/** The entity events that arrive in an orchestration's inbox. */
export type EntityIncomingType = "EntityOperationCompleted" | "EntityOperationFailed" | "EntityLockGranted";
