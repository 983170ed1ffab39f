import { InvalidArgumentError } from "../errors/errors.js";
import type { OrchestrationContext } from "../orchestration/context.js";
import { checkDefinitionName, checkOptionKeys } from "./activity.js";
import { checkQueueName, DEFAULT_QUEUE } from "./queue.js";

export type OrchestrationFunction<I, O> = (ctx: OrchestrationContext, input: I) => Promise<O>;

/** A registered workflow. Create with `orchestration()`. */
export interface OrchestrationDefinition<I = unknown, O = unknown> {
  readonly kind: "orchestration";
  readonly name: string;
  readonly fn: OrchestrationFunction<I, O>;
  /** The queue its instances are routed to: only workers serving it run them. */
  readonly queue: string;
}

export interface OrchestrationOptions {
  /** The queue its instances (and sub-orchestrations of it) are routed to. Default "default". */
  queue?: string;
}

/**
 * Defines an orchestration: a deterministic async function that coordinates activities.
 * It is replayed from its history, so it must reach the outside world only through `ctx`.
 */
export function orchestration<I, O>(
  name: string,
  fn: OrchestrationFunction<I, O>,
  options: OrchestrationOptions = {},
): OrchestrationDefinition<I, O> {
  checkDefinitionName("orchestration", name);
  if (typeof fn !== "function") throw new InvalidArgumentError(`orchestration "${name}" needs an async function.`);
  checkOptionKeys(options, ["queue"], `orchestration "${name}"`);
  const queue = options.queue === undefined ? DEFAULT_QUEUE : checkQueueName(options.queue, `orchestration "${name}"`);
  return { kind: "orchestration", name, fn, queue };
}

/** The input type of a definition. */
export type InputOf<D> = D extends OrchestrationDefinition<infer I, unknown> ? I : never;
/** The output type of a definition. */
export type OutputOf<D> = D extends OrchestrationDefinition<unknown, infer O> ? O : never;
