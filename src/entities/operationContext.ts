import { randomUUID } from "node:crypto";
import { checkInstanceId } from "../client/instanceId.js";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import { InvalidArgumentError } from "../errors/errors.js";
import { assertSerializable } from "../history/serialization.js";
import type { NewEntityMessage } from "../store/entityStore.js";
import type { NewInstance } from "../store/store.js";
import { toEpochMs } from "../time/epoch.js";
import type { EntityContext, SignalEntityOptions, StartOrchestrationOptions } from "./context.js";
import { type AnyEntity, checkEntityKey, isEntityDefinition, operationNames } from "./definition.js";
import { UnknownEntityOperationError } from "./errors.js";

/**
 * The context of one operation run. It collects what the operation did besides changing
 * its state copy; the batch keeps it only if the operation returns without throwing.
 */
export class OperationContext<S> implements EntityContext<S> {
  /** Set by `setState`: the state that replaces the operation's copy. */
  replaced: { value: S } | undefined;
  deleted = false;
  readonly messages: NewEntityMessage[] = [];
  readonly starts: NewInstance[] = [];

  constructor(
    readonly entityName: string,
    readonly key: string,
    readonly operation: string,
    private readonly now: number,
  ) {}

  setState(state: S): void {
    this.replaced = { value: state };
    this.deleted = false;
  }

  deleteState(): void {
    this.replaced = undefined;
    this.deleted = true;
  }

  signalEntity(
    entity: AnyEntity,
    key: string,
    operation: string,
    input?: unknown,
    options?: SignalEntityOptions,
  ): void {
    if (!isEntityDefinition(entity)) {
      throw new InvalidArgumentError("ctx.signalEntity needs an entity definition created with entity().");
    }
    checkEntityKey(key, "ctx.signalEntity");
    if (!Object.hasOwn(entity.operations, operation)) {
      throw new UnknownEntityOperationError(entity.name, String(operation), operationNames(entity));
    }
    assertSerializable(input, `input of operation "${operation}" of entity "${entity.name}"`);
    const at = options?.at === undefined ? this.now : toEpochMs(options.at, "signalEntity at");
    this.messages.push({
      name: entity.name,
      key,
      kind: "operation",
      operation,
      input,
      senderEntity: { name: this.entityName, key: this.key },
      visibleAt: Math.max(at, this.now),
    });
  }

  startOrchestration<I, O>(
    orchestration: OrchestrationDefinition<I, O>,
    input: I,
    options: StartOrchestrationOptions = {},
  ): string {
    if (orchestration?.kind !== "orchestration") {
      throw new InvalidArgumentError(
        "ctx.startOrchestration needs an orchestration definition created with orchestration().",
      );
    }
    const instanceId = checkInstanceId(options.instanceId ?? randomUUID());
    assertSerializable(input, `input of orchestration "${orchestration.name}"`, { instanceId });
    const start: NewInstance = {
      instanceId,
      name: orchestration.name,
      executionId: randomUUID(),
      input,
      createdAt: this.now,
      replaceIfFinished: false,
    };
    const queue = (orchestration as { queue?: string }).queue;
    if (queue !== undefined) start.queue = queue;
    this.starts.push(start);
    return instanceId;
  }
}
