import { type Command, Option } from "commander";
import { createClient } from "../client/client.js";
import { createHttpServer, type HttpServer } from "../http/server.js";
import type { Logger } from "../orchestration/logger.js";
import { createWorker } from "../worker/worker.js";
import { loadApp } from "./appModule.js";
import { CliError } from "./cliError.js";
import { CommandContext } from "./context.js";
import { fields } from "./format.js";

interface ServeFlags {
  app: string;
  port: string;
  host: string;
  apiKey?: string;
  dashboard: boolean;
}

/** Adds `serve`: a worker for the app module, the HTTP management API and the dashboard, until SIGINT/SIGTERM. */
export function addServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run a worker for an app module, with the HTTP management API and the dashboard")
    .requiredOption("--app <module>", "module exporting `orchestrations`, `activities` (and optionally `store`)")
    .option("--port <port>", "HTTP port (0: any free port)", "7071")
    .option("--host <host>", "interface to bind; anything but loopback needs --api-key", "127.0.0.1")
    .addOption(
      new Option("--api-key <key>", "required on API calls (header x-functions-key or ?code=)").env("PERDURE_API_KEY"),
    )
    .option("--no-dashboard", "serve the API only")
    .action(async (options: ServeFlags, command: Command) => {
      const ctx = new CommandContext(command);
      const port = parsePort(options.port);
      const app = await loadApp(options.app);
      const store = await ctx.resolveStore(app.store, { mustExist: false });
      const worker = createWorker({
        store,
        orchestrations: app.orchestrations,
        activities: app.activities,
        logger: stderrLogger(ctx.options.verbose),
        handleSignals: false,
      });
      let server: HttpServer | undefined;
      try {
        server = createHttpServer({
          client: createClient({ store }),
          store,
          orchestrations: app.orchestrations,
          host: options.host,
          port,
          dashboard: options.dashboard,
          ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        });
        await worker.start();
        const address = await server.listen();
        const base = address.replace(/\/$/, "");
        const code = options.apiKey ? `?code=${encodeURIComponent(options.apiKey)}` : "";
        const info = {
          url: base,
          api: `${base}/runtime/webhooks/durabletask`,
          dashboard: options.dashboard ? `${base}/${code}` : null,
          store: store.location,
          orchestrations: app.orchestrations.map((o) => o.name),
          activities: app.activities.map((a) => a.name),
        };
        ctx.output.result(info, () =>
          fields(
            [
              ["Perdure", `serving ${info.orchestrations.length} orchestrations, ${info.activities.length} activities`],
              ["Store", info.store],
              ["API", info.api],
              ...(info.dashboard ? ([["Dashboard", info.dashboard]] as [string, string][]) : []),
            ],
            ctx.output.paint,
          ),
        );
        await untilSignal(ctx);
      } finally {
        await server?.close().catch(() => undefined);
        await worker.stop();
        await store.close();
      }
    });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new CliError("USAGE", `--port must be 0–65535, got "${text}".`);
  return port;
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function untilSignal(ctx: CommandContext): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      if (!ctx.options.json) ctx.output.note(`${signal}: stopping (again to force)…`);
      process.once(signal, () => process.exit(130));
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/** Worker log lines go to stderr, so that stdout keeps only the command's output. */
function stderrLogger(verbose: boolean): Logger {
  return {
    debug: (message, ...args) => verbose && console.error(message, ...args),
    info: (message, ...args) => console.error(message, ...args),
    warn: (message, ...args) => console.error(message, ...args),
    error: (message, ...args) => console.error(message, ...args),
  };
}
