import type { Command } from "commander";
import type { Client } from "../client/client.js";
import { parseJsonArgument, parseStatuses, parseTime } from "./arguments.js";
import { CliError } from "./cliError.js";
import { CommandContext } from "./context.js";

/** Adds the commands that change instances: raise, suspend, resume, terminate, rewind, restart, purge. */
export function addManageCommands(program: Command): void {
  program
    .command("raise")
    .description("send an external event to an instance")
    .argument("<id>", "instance id")
    .argument("<event>", "event name")
    .argument("[data]", "event data as JSON, or @file.json")
    .action(async (id: string, event: string, data: string | undefined, _options: unknown, command: Command) => {
      const payload = data === undefined ? undefined : parseJsonArgument(data, "event data");
      await act(command, "raise", id, (client) => client.raiseEvent(id, event, payload), `Raised "${event}" on ${id}.`);
    });

  for (const [name, past] of [
    ["suspend", "Suspended"],
    ["resume", "Resumed"],
  ] as const) {
    program
      .command(name)
      .description(name === "suspend" ? "pause an instance until it is resumed" : "resume a suspended instance")
      .argument("<id>", "instance id")
      .option("--reason <text>", "recorded in the history")
      .action(async (id: string, options: { reason?: string }, command: Command) => {
        await act(command, name, id, (client) => client[name](id, options.reason), `${past} ${id}.`);
      });
  }

  program
    .command("terminate")
    .description("stop an active instance at once")
    .argument("<id>", "instance id")
    .option("--reason <text>", "recorded as the instance's output")
    .option("--recursive", "terminate its running sub-orchestrations too")
    .action(async (id: string, options: { reason?: string; recursive?: boolean }, command: Command) => {
      const run = (client: Client) => client.terminate(id, options.reason, { recursive: options.recursive === true });
      await act(command, "terminate", id, run, `Terminated ${id}.`);
    });

  program
    .command("rewind")
    .description("re-run a Failed instance from its failed step")
    .argument("<id>", "instance id")
    .option("--reason <text>", "recorded in the history")
    .action(async (id: string, options: { reason?: string }, command: Command) => {
      await act(command, "rewind", id, (client) => client.rewind(id, options.reason), `Rewound ${id}.`);
    });

  program
    .command("restart")
    .description("start a new run with the same orchestration and input")
    .argument("<id>", "instance id")
    .option("--new-id [id]", "run under a new id (a random one, or the one given) instead of replacing this one")
    .action(async (id: string, options: { newId?: string | true }, command: Command) => {
      const ctx = new CommandContext(command);
      await ctx.withClient(async (client) => {
        const newId = await client.restart(id, options.newId === undefined ? {} : { newInstanceId: options.newId });
        ctx.output.result({ instanceId: newId, restartedFrom: id }, () =>
          newId === id ? `Restarted ${id}.` : `Restarted ${id} as ${newId}.`,
        );
      });
    });

  program
    .command("purge")
    .description("delete finished instances and their history: one by id, or all that match the filters")
    .argument("[id]", "instance id")
    .option("--status <statuses>", "only these final statuses (default: Completed, Failed, Terminated)")
    .option("--before <time>", "created before: ISO time, or a duration ago such as 30d")
    .option("--since <time>", "created at or after: ISO time, or a duration ago")
    .action(async (id: string | undefined, options: PurgeFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const filtered = options.status !== undefined || options.before !== undefined || options.since !== undefined;
      if (id !== undefined && filtered) throw new CliError("USAGE", "purge takes an instance id or filters, not both.");
      // Purging every finished instance is too easy to do by accident with a bare "purge".
      if (id === undefined && !filtered) {
        throw new CliError("USAGE", "purge needs an instance id, or at least one of --status, --before, --since.");
      }
      const filter = {
        ...(options.status ? { runtimeStatus: parseStatuses(options.status) } : {}),
        ...(options.before ? { createdTo: parseTime(options.before, "--before") } : {}),
        ...(options.since ? { createdFrom: parseTime(options.since, "--since") } : {}),
      };
      await ctx.withClient(async (client) => {
        let deleted = 1;
        if (id !== undefined) await client.purge(id);
        else deleted = await client.purgeInstances(filter);
        ctx.output.result({ instancesDeleted: deleted }, () =>
          id !== undefined ? `Purged ${id}.` : `Purged ${deleted} instance${deleted === 1 ? "" : "s"}.`,
        );
      });
    });
}

interface PurgeFlags {
  status?: string;
  before?: string;
  since?: string;
}

/** Runs one action on one instance and reports it. */
async function act(
  command: Command,
  action: string,
  id: string,
  run: (client: Client) => Promise<void>,
  done: string,
): Promise<void> {
  const ctx = new CommandContext(command);
  await ctx.withClient(async (client) => {
    await run(client);
    ctx.output.result({ instanceId: id, action, ok: true }, () => done);
  });
}
