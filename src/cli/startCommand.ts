import type { Command } from "commander";
import { createClient } from "../client/client.js";
import { toMilliseconds } from "../time/duration.js";
import { findOrchestration, loadApp } from "./appModule.js";
import { parseJsonArgument } from "./arguments.js";
import { EXIT_FAILED } from "./cliError.js";
import { CommandContext } from "./context.js";
import { formatStatus } from "./format.js";
import { statusToJson } from "./output.js";
import { waitWithProgress } from "./progress.js";

interface StartFlags {
  app: string;
  input?: string;
  id?: string;
  replace?: boolean;
  wait?: boolean;
  timeout?: string;
}

/** Adds `start`: starts an instance of an orchestration of the app module, optionally waiting for it. */
export function addStartCommand(program: Command): void {
  program
    .command("start")
    .description("start an instance of an orchestration (run by a worker such as `perdure serve`)")
    .argument("<name>", "orchestration name")
    .requiredOption("--app <module>", "the app module that defines the orchestration")
    .option("--input <json>", "input as JSON, or @file.json")
    .option("--id <id>", "instance id (default: a random UUID)")
    .option("--replace", "replace a finished instance with the same id")
    .option("--wait", "wait until it finishes, showing progress; exit 1 unless it Completed")
    .option("--timeout <duration>", "with --wait: give up after this long (e.g. 30s, 5m)")
    .action(async (name: string, options: StartFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const input = options.input === undefined ? undefined : parseJsonArgument(options.input, "--input");
      const timeoutMs = options.timeout === undefined ? undefined : toMilliseconds(options.timeout, "--timeout");
      const app = await loadApp(options.app);
      const definition = findOrchestration(app, name);
      const store = await ctx.resolveStore(app.store, { mustExist: false });
      try {
        const client = createClient({ store });
        const instanceId = await client.start(definition, input as never, {
          ...(options.id !== undefined ? { instanceId: options.id } : {}),
          replaceIfFinished: options.replace === true,
        });
        if (!options.wait) {
          ctx.output.result({ instanceId, name }, () => `Started ${name} as ${instanceId}.`);
          return;
        }
        if (!ctx.options.json) ctx.output.note(`Started ${name} as ${instanceId}; waiting for it to finish…`);
        const status = await waitWithProgress(client, instanceId, timeoutMs === undefined ? {} : { timeoutMs });
        ctx.output.result(statusToJson(status), () => formatStatus(status, ctx.output.paint));
        if (status.runtimeStatus !== "Completed") process.exitCode = EXIT_FAILED;
      } finally {
        await store.close();
      }
    });
}
