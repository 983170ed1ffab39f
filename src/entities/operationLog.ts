import {
  ENTITY_OPERATION_LOG_SIZE,
  type EntityMessage,
  type EntityOperationKind,
  type EntityOperationRecord,
  type EntityOperationSender,
} from "../store/entityStore.js";

/** Longest input preview kept in the log, in characters: enough to recognise a call, small enough to keep many. */
export const INPUT_PREVIEW_LENGTH = 200;
/** Longest error message kept in the log. */
const ERROR_MESSAGE_LENGTH = 1_000;

interface Applied {
  message: EntityMessage;
  kind: EntityOperationKind;
  error: unknown;
  failed: boolean;
}

/**
 * Collects the messages one batch applied, for the entity's operation log. The store keeps
 * only the newest ENTITY_OPERATION_LOG_SIZE entries of an entity, so only the batch's last
 * ones become records (a batch of 1,000 signals previews 20 inputs, not 1,000).
 */
export class OperationLogBuilder {
  private readonly applied: Applied[] = [];

  constructor(private readonly now: number) {}

  /** An operation ran (`failed` with its error if it threw), or a lock was granted or released. */
  add(message: EntityMessage, kind: EntityOperationKind, failure?: { error: unknown }): void {
    this.applied.push({ message, kind, error: failure?.error, failed: failure !== undefined });
  }

  records(): EntityOperationRecord[] {
    return this.applied.slice(-ENTITY_OPERATION_LOG_SIZE).map(({ message, kind, error, failed }) => {
      const record: EntityOperationRecord = { kind, sender: senderOf(message), appliedAt: this.now, ok: !failed };
      if (message.operation !== undefined && (kind === "signal" || kind === "call")) {
        record.operation = message.operation;
      }
      if (failed) record.error = describeError(error);
      const preview = kind === "signal" || kind === "call" ? previewOf(message.input) : undefined;
      if (preview !== undefined) record.inputPreview = preview;
      return record;
    });
  }
}

export function senderOf(message: Pick<EntityMessage, "sender" | "senderEntity">): EntityOperationSender {
  if (message.sender) return { kind: "orchestration", instanceId: message.sender.instanceId };
  if (message.senderEntity) return { kind: "entity", name: message.senderEntity.name, key: message.senderEntity.key };
  return { kind: "client" };
}

/** The input as JSON on one line, cut to INPUT_PREVIEW_LENGTH characters (it came from the store, so it is JSON). */
function previewOf(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  const text = JSON.stringify(input);
  return text.length > INPUT_PREVIEW_LENGTH ? `${text.slice(0, INPUT_PREVIEW_LENGTH - 1)}…` : text;
}

function describeError(error: unknown): { name: string; message: string } {
  const name = error instanceof Error ? error.name : "Error";
  let message: string;
  if (error instanceof Error) message = error.message;
  else if (typeof error === "string") message = error;
  else {
    try {
      message = JSON.stringify(error) ?? String(error);
    } catch {
      message = String(error);
    }
  }
  return {
    name,
    message: message.length > ERROR_MESSAGE_LENGTH ? `${message.slice(0, ERROR_MESSAGE_LENGTH - 1)}…` : message,
  };
}
