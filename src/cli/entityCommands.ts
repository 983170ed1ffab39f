import type { Command } from "commander";
import type { EntityOperationEntry, EntityOperationsResult, EntityStatus } from "../entities/entityClient.js";
import { parseJsonArgument, parsePositiveInt, parseTime } from "./arguments.js";
import { EXIT_FAILED } from "./cliError.js";
import { CommandContext } from "./context.js";
import { fields, formatTime, formatValue, type Paint, table } from "./format.js";

/** An entity as the CLI prints it in JSON: times as ISO strings. */
function entityToJson(entity: EntityStatus): Record<string, unknown> {
  return {
    name: entity.name,
    key: entity.key,
    exists: entity.exists,
    state: entity.state ?? null,
    lastModified: entity.lastModified?.toISOString() ?? null,
    lockedBy: entity.lockedBy ?? null,
  };
}

/** A log entry as the CLI prints it in JSON. */
function operationToJson(op: EntityOperationEntry): Record<string, unknown> {
  return {
    kind: op.kind,
    operation: op.operation ?? null,
    sender: op.sender,
    appliedAt: op.appliedAt.toISOString(),
    ok: op.ok,
    error: op.error ?? null,
    inputPreview: op.inputPreview ?? null,
  };
}

function senderText(op: EntityOperationEntry): string {
  const s = op.sender;
  return s.kind === "orchestration" ? s.instanceId : s.kind === "entity" ? `${s.name}@${s.key}` : "client";
}

/** The recent operations as a table, newest first, and how many wait. */
function operationsText(log: EntityOperationsResult, p: Paint): string {
  const pending = p.dim(`${log.pending} operation(s) pending.`);
  if (log.operations.length === 0) return `${p.dim("No operations recorded.")}\n${pending}`;
  const rows = log.operations.map((op) => [
    formatTime(op.appliedAt),
    op.kind,
    op.operation ?? "",
    senderText(op),
    op.ok ? "ok" : p.red(`failed: ${op.error?.name ?? "Error"}: ${op.error?.message ?? ""}`),
    op.inputPreview ?? "",
  ]);
  return `${table(["APPLIED", "KIND", "OPERATION", "SENDER", "OUTCOME", "INPUT"], rows, p)}\n${pending}`;
}

/** Adds `entity get`, `entity signal` and `entity list`: durable entities from a shell. */
export function addEntityCommands(program: Command): void {
  const group = program.command("entity").description("read, list and signal durable entities");

  group
    .command("get")
    .description("show an entity's state and its recent operations; exit 1 if it has no state")
    .argument("<name>", "entity name")
    .argument("<key>", "entity key")
    .action(async (name: string, key: string, _options: unknown, command: Command) => {
      const ctx = new CommandContext(command);
      await ctx.withClient(async (client) => {
        const [entity, log] = await Promise.all([client.getEntity(name, key), client.getEntityOperations(name, key)]);
        const p = ctx.output.paint;
        const json = {
          ...entityToJson(entity),
          pendingOperations: log.pending,
          recentOperations: log.operations.map(operationToJson),
        };
        ctx.output.result(json, () => {
          const head = entity.exists
            ? fields(
                [
                  ["Entity", `${entity.name}@${entity.key}`],
                  ["State", formatValue(entity.state)],
                  ["Modified", entity.lastModified ? formatTime(entity.lastModified) : "-"],
                  ...(entity.lockedBy ? ([["Locked by", entity.lockedBy]] as [string, string][]) : []),
                ],
                p,
              )
            : p.dim(`Entity ${entity.name}@${entity.key} has no state.`);
          if (!entity.exists && log.operations.length === 0 && log.pending === 0) return head;
          return `${head}\n\n${p.bold("Recent operations")} ${p.dim("(newest first)")}\n${operationsText(log, p)}`;
        });
        if (!entity.exists) process.exitCode = EXIT_FAILED;
      });
    });

  group
    .command("signal")
    .description("send an operation to an entity, one-way (applied by a worker that registers the entity)")
    .argument("<name>", "entity name")
    .argument("<key>", "entity key")
    .argument("<operation>", "operation name")
    .option("--input <json>", "the operation's input as JSON, or @file.json")
    .option("--at <time>", "deliver no earlier than this ISO time")
    .action(async (name: string, key: string, operation: string, options: SignalFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const input = options.input === undefined ? undefined : parseJsonArgument(options.input, "--input");
      const at = options.at === undefined ? undefined : parseTime(options.at, "--at");
      await ctx.withClient(async (client) => {
        await client.signalEntity(name, key, operation, input, at ? { at } : {});
        ctx.output.result(
          { name, key, operation, at: at?.toISOString() ?? null },
          () => `Signalled ${operation} to ${name}@${key}${at ? ` for ${formatTime(at)}` : ""}.`,
        );
      });
    });

  group
    .command("list")
    .description("list entities with state, by name then key")
    .argument("[name]", "only entities of this name")
    .option("--prefix <prefix>", "only keys starting with this")
    .option("--limit <n>", "at most this many entities", "50")
    .option("--continue <token>", "start after the page that returned this continuation token")
    .action(async (name: string | undefined, options: ListFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const limit = parsePositiveInt(options.limit, "--limit");
      await ctx.withClient(async (client) => {
        const entities: EntityStatus[] = [];
        let token = options.continue;
        do {
          const page = await client.listEntities({
            pageSize: Math.min(1000, limit - entities.length),
            ...(name ? { name } : {}),
            ...(options.prefix ? { keyPrefix: options.prefix } : {}),
            ...(token ? { continuationToken: token } : {}),
          });
          entities.push(...page.entities);
          token = page.continuationToken;
        } while (token && entities.length < limit);
        const p = ctx.output.paint;
        ctx.output.result(
          { entities: entities.map(entityToJson), ...(token ? { continuationToken: token } : {}) },
          () => {
            if (entities.length === 0) return p.dim("No entities match.");
            const rows = entities.map((e) => [
              e.name,
              e.key,
              formatValue(e.state, 60),
              e.lastModified ? formatTime(e.lastModified) : "-",
              e.lockedBy ?? "",
            ]);
            const more = token ? `\n${p.dim(`More entities match: perdure entity list --continue ${token}`)}` : "";
            return table(["NAME", "KEY", "STATE", "MODIFIED", "LOCKED BY"], rows, p) + more;
          },
        );
      });
    });
}

interface SignalFlags {
  input?: string;
  at?: string;
}

interface ListFlags {
  prefix?: string;
  limit: string;
  continue?: string;
}
