import { checkDefinitionName } from "../definitions/activity.js";
import { InvalidArgumentError } from "../errors/errors.js";
import { assertSerializable } from "../history/serialization.js";
import type { EntityContext } from "./context.js";

/**
 * One operation of an entity. It gets a fresh copy of the state (mutate it in place, or
 * replace it with `ctx.setState`), its input and the context; what it returns is the result
 * a two-way caller receives. If it throws, the state is as it was before it ran.
 */
export type EntityOperation<S> = (state: S, input: never, ctx: EntityContext<S>) => unknown;

/** The operations of an entity, by name. */
export type EntityOperations<S> = Record<string, EntityOperation<S>>;

/** A registered entity type. Create with `entity()`. */
export interface EntityDefinition<S = unknown, Ops extends EntityOperations<S> = EntityOperations<S>> {
  readonly kind: "entity";
  readonly name: string;
  /** A fresh copy of the state of an entity that has none (never written, or deleted). */
  initialState(): S;
  readonly operations: Ops;
}

/**
 * Any entity definition, whatever its state and operations: what workers register and what
 * the typed helpers below constrain to.
 */
export interface AnyEntity {
  readonly kind: "entity";
  readonly name: string;
  initialState(): unknown;
  readonly operations: { readonly [operation: string]: (state: never, input: never, ctx: never) => unknown };
}

/** The operation names of an entity definition. */
export type OperationName<E extends AnyEntity> = keyof E["operations"] & string;
/** The input an operation takes (`undefined` when it takes none). */
export type OperationInput<E extends AnyEntity, K extends OperationName<E>> = Parameters<E["operations"][K]>[1];
/** What an operation returns to a two-way caller. */
export type OperationResult<E extends AnyEntity, K extends OperationName<E>> = Awaited<ReturnType<E["operations"][K]>>;
/** The input argument of a call: optional when the operation takes none. */
export type OperationInputArgs<E extends AnyEntity, K extends OperationName<E>> =
  undefined extends OperationInput<E, K> ? [input?: OperationInput<E, K>] : [input: OperationInput<E, K>];
/** The input argument, then an options bag. */
export type OperationArgsWith<E extends AnyEntity, K extends OperationName<E>, O> =
  undefined extends OperationInput<E, K>
    ? [input?: OperationInput<E, K>, options?: O]
    : [input: OperationInput<E, K>, options?: O];

export interface EntityOptions<S, Ops extends EntityOperations<S>> {
  /** The state of an entity that has none: a JSON value (copied for each use) or a function returning one. */
  initialState: S | (() => S);
  operations: Ops;
}

/**
 * Defines an entity type: a small stateful object addressed by (name, key), whose
 * operations run one at a time, in the order they were sent, with their state changes and
 * the messages they send committed atomically.
 *
 * ```ts
 * const counter = entity("counter", {
 *   initialState: 0,
 *   operations: {
 *     add: (n, amount: number, ctx) => ctx.setState(n + amount),
 *     get: (n) => n,
 *   },
 * });
 * ```
 */
export function entity<S, Ops extends EntityOperations<S>>(
  name: string,
  options: EntityOptions<S, Ops>,
): EntityDefinition<S, Ops> {
  checkDefinitionName("entity", name);
  checkEntityName(name, "entity");
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`entity "${name}" needs { initialState, operations }.`);
  }
  const { initialState, operations } = options;
  if (typeof operations !== "object" || operations === null || Array.isArray(operations)) {
    throw new InvalidArgumentError(`entity "${name}" needs an object of operations.`);
  }
  const names = Object.keys(operations);
  if (names.length === 0) throw new InvalidArgumentError(`entity "${name}" needs at least one operation.`);
  for (const op of names) {
    if (typeof operations[op] !== "function") {
      throw new InvalidArgumentError(`operation "${op}" of entity "${name}" must be a function.`);
    }
  }
  let fresh: () => S;
  if (typeof initialState === "function") {
    fresh = initialState as () => S;
  } else {
    // Checked now, so that a bad value fails at start-up rather than at the first operation.
    assertSerializable(initialState, `initialState of entity "${name}"`);
    const text = initialState === undefined ? undefined : JSON.stringify(initialState);
    fresh = () => (text === undefined ? undefined : JSON.parse(text)) as S;
  }
  return { kind: "entity", name, initialState: fresh, operations: Object.freeze({ ...operations }) as Ops };
}

/** Whether `value` was made by `entity()`. */
export function isEntityDefinition(value: unknown): value is AnyEntity {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "entity" &&
    typeof (value as { name?: unknown }).name === "string"
  );
}

/** Validates an entity key: a non-empty string of at most 1000 characters, without NUL (PostgreSQL refuses it). */
export function checkEntityKey(key: unknown, where: string): string {
  if (typeof key !== "string" || key.length === 0 || key.length > 1000 || key.includes("\u0000")) {
    throw new InvalidArgumentError(
      `${where}: an entity key must be a non-empty string of at most 1000 characters without NUL, got ${JSON.stringify(key)}.`,
    );
  }
  return key;
}

/** Validates an entity name given as a string (a client that does not have the definition). */
export function checkEntityName(name: unknown, where: string): string {
  if (typeof name !== "string" || name.trim() === "" || name.length > 200 || name.includes("\u0000")) {
    throw new InvalidArgumentError(
      `${where}: an entity name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}.`,
    );
  }
  return name;
}

/** The operation names of a definition, for error messages. */
export function operationNames(definition: AnyEntity): string[] {
  return Object.keys(definition.operations);
}
