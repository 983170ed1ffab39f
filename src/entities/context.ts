import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import type { AnyEntity, OperationArgsWith, OperationName } from "./definition.js";

export interface SignalEntityOptions {
  /** Deliver no earlier than this time (a scheduled signal). Default: at once. */
  at?: Date;
}

export interface StartOrchestrationOptions {
  /**
   * The new instance's id. Default: a random UUID. If an instance with this id exists
   * already, nothing is started: starting from an operation is idempotent by id.
   */
  instanceId?: string;
}

/**
 * What an entity operation may use besides its state and input. Everything it sends or
 * starts is committed together with the operation's state change — or not at all, if the
 * operation throws.
 */
export interface EntityContext<S = unknown> {
  /** The entity's name (its definition's). */
  readonly entityName: string;
  /** The entity's key. */
  readonly key: string;
  /** The operation running. */
  readonly operation: string;
  /** Replaces the state (the way to change a number, a string or any state that is not an object). */
  setState(state: S): void;
  /** Deletes the entity's state; the next operation sees the initial state again. */
  deleteState(): void;
  /** Sends an operation to an entity (this one included), one-way. */
  signalEntity<E extends AnyEntity, K extends OperationName<E>>(
    entity: E,
    key: string,
    operation: K,
    ...args: OperationArgsWith<E, K, SignalEntityOptions>
  ): void;
  /** Starts an orchestration instance; returns its id. */
  startOrchestration<I, O>(
    orchestration: OrchestrationDefinition<I, O>,
    input: I,
    options?: StartOrchestrationOptions,
  ): string;
}
