import type { ActivityDefinition } from "../definitions/activity.js";
import { checkQueueName, DEFAULT_QUEUE } from "../definitions/queue.js";
import { InvalidArgumentError } from "../errors/errors.js";
import type { AnyActivity, AnyOrchestration } from "./workerOptions.js";

/**
 * The orchestrations and activities a worker runs, by name. Refuses entries not made with
 * orchestration() or activity(), and two definitions of one kind under one name.
 */
export class DefinitionRegistry {
  private readonly orchestrations = new Map<string, AnyOrchestration>();
  private readonly activities = new Map<string, AnyActivity>();

  constructor(orchestrations: readonly AnyOrchestration[] = [], activities: readonly AnyActivity[] = []) {
    for (const def of orchestrations) register(this.orchestrations, def, "orchestration");
    for (const def of activities) register(this.activities, def, "activity");
  }

  orchestration(name: string): AnyOrchestration | undefined {
    return this.orchestrations.get(name);
  }

  activity(name: string): ActivityDefinition<unknown, unknown> | undefined {
    return this.activities.get(name) as ActivityDefinition<unknown, unknown> | undefined;
  }

  /** The queues a worker serves: those `given`, checked, or else those its definitions name. */
  servedQueues(given: string[] | undefined): string[] {
    if (given !== undefined) {
      if (!Array.isArray(given) || given.length === 0) {
        throw new InvalidArgumentError(
          'createWorker: queues must be a non-empty array of queue names, such as ["default"].',
        );
      }
      return [...new Set(given.map((q) => checkQueueName(q, "createWorker: queues")))];
    }
    const defined = [...this.orchestrations.values(), ...this.activities.values()].map((d) => d.queue);
    return defined.length === 0 ? [DEFAULT_QUEUE] : [...new Set(defined)];
  }
}

function register<D extends { name: string; kind: string }>(into: Map<string, D>, def: D, kind: string): void {
  if (!def || def.kind !== kind)
    throw new InvalidArgumentError(
      `createWorker: every entry of ${kind === "activity" ? "activities" : "orchestrations"} must be made with ${kind}().`,
    );
  if (into.has(def.name))
    throw new InvalidArgumentError(`createWorker: two ${kind} definitions are named "${def.name}".`);
  into.set(def.name, def);
}
