import type { Command } from "commander";
import type { InstanceStatus } from "../client/instanceStatus.js";
import type { ListOptions } from "../client/listQuery.js";
import { InstanceNotFoundError } from "../errors/errors.js";
import { parsePositiveInt, parseStatuses, parseTime } from "./arguments.js";
import { CommandContext } from "./context.js";
import { formatHistory, formatStatus, formatTime, formatValue, table } from "./format.js";
import { eventToJson, statusToJson } from "./output.js";

/** Adds `status`, `list` and `history`: the read-only commands. */
export function addQueryCommands(program: Command): void {
  program
    .command("status")
    .description("show an instance: status, input, output, custom status, failure")
    .argument("<id>", "instance id")
    .option("--history", "show its history too")
    .action(async (id: string, options: { history?: boolean }, command: Command) => {
      const ctx = new CommandContext(command);
      await ctx.withClient(async (client) => {
        const status = await client.getStatus(id);
        if (!status) throw new InstanceNotFoundError(id);
        const history = options.history ? await client.getHistory(id) : undefined;
        const p = ctx.output.paint;
        ctx.output.result(
          history ? { ...statusToJson(status), history: history.map(eventToJson) } : statusToJson(status),
          () => (history ? `${formatStatus(status, p)}\n\n${formatHistory(history, p)}` : formatStatus(status, p)),
        );
      });
    });

  program
    .command("list")
    .description("list instances, oldest first")
    .option("--status <statuses>", "only these statuses, comma-separated (e.g. Running,Failed)")
    .option("--name <name>", "only instances of this orchestration")
    .option("--prefix <prefix>", "only instance ids starting with this")
    .option("--since <time>", "created at or after: ISO time, or a duration ago such as 1h or 7d")
    .option("--until <time>", "created before: ISO time, or a duration ago")
    .option("--limit <n>", "at most this many instances", "50")
    .option("--continue <token>", "start after the page that returned this continuation token")
    .action(async (options: ListFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const limit = parsePositiveInt(options.limit, "--limit");
      const filter = listFilter(options);
      await ctx.withClient(async (client) => {
        const instances: InstanceStatus[] = [];
        let token = options.continue;
        // Pages of at most 1000 (the client's maximum) until the limit; the last page is
        // asked for with exactly the rows still wanted, so its token resumes right after them.
        do {
          const page = await client.list({
            ...filter,
            pageSize: Math.min(1000, limit - instances.length),
            ...(token ? { continuationToken: token } : {}),
          });
          instances.push(...page.instances);
          token = page.continuationToken;
        } while (token && instances.length < limit);
        const p = ctx.output.paint;
        ctx.output.result(
          { instances: instances.map(statusToJson), ...(token ? { continuationToken: token } : {}) },
          () => {
            if (instances.length === 0) return p.dim("No instances match.");
            const rows = instances.map((s) => [
              s.instanceId,
              s.name,
              p.status(s.runtimeStatus),
              formatTime(s.createdAt),
              formatTime(s.lastUpdatedAt),
              formatValue(s.customStatus ?? undefined, 40),
            ]);
            const more = token ? `\n${p.dim(`More instances match: perdure list --continue ${token}`)}` : "";
            return table(["INSTANCE", "NAME", "STATUS", "CREATED", "UPDATED", "CUSTOM STATUS"], rows, p) + more;
          },
        );
      });
    });

  program
    .command("history")
    .description("show an instance's history, oldest event first")
    .argument("<id>", "instance id")
    .option("--all", "include the OrchestratorStarted event that opens each episode")
    .action(async (id: string, options: { all?: boolean }, command: Command) => {
      const ctx = new CommandContext(command);
      await ctx.withClient(async (client) => {
        const history = await client.getHistory(id);
        ctx.output.result(history.map(eventToJson), () =>
          formatHistory(history, ctx.output.paint, options.all === true),
        );
      });
    });
}

interface ListFlags {
  status?: string;
  name?: string;
  prefix?: string;
  since?: string;
  until?: string;
  limit: string;
  continue?: string;
}

function listFilter(options: ListFlags): ListOptions {
  const filter: ListOptions = {};
  if (options.status) filter.runtimeStatus = parseStatuses(options.status);
  if (options.name) filter.name = options.name;
  if (options.prefix) filter.instanceIdPrefix = options.prefix;
  if (options.since) filter.createdFrom = parseTime(options.since, "--since");
  if (options.until) filter.createdTo = parseTime(options.until, "--until");
  return filter;
}
