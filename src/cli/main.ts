#!/usr/bin/env node
// The `perdure` command: operate a Perdure store from a shell. Exit codes are in cliError.ts.

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { EXIT_USAGE, exitCodeOf } from "./cliError.js";
import { addEntityCommands } from "./entityCommands.js";
import { addManageCommands } from "./manageCommands.js";
import { Output } from "./output.js";
import { addQueryCommands } from "./queryCommands.js";
import { addReplayCommand } from "./replayCommand.js";
import { addServeCommand } from "./serveCommand.js";
import { addStartCommand } from "./startCommand.js";
import { DEFAULT_STORE } from "./storeOption.js";

/** The program with every command; `main` runs it. */
function createProgram(): Command {
  const program = new Command("perdure")
    .description("Operate Perdure durable orchestrations: serve an app, start, inspect and manage instances.")
    .version(packageVersion(), "-V, --version")
    .addOption(
      new Option("--store <store>", "where instances live: sqlite:FILE or postgres://…")
        .env("PERDURE_STORE")
        .default(DEFAULT_STORE),
    )
    .option("--json", "print one JSON document on stdout (for scripts)")
    .option("--verbose", "print stack traces of errors")
    .showHelpAfterError("(run perdure --help for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 done; 1 the operation failed (not found, wrong state, instance Failed, timeout); 2 bad usage.",
    )
    // Set before the commands are added, so that they inherit it: usage errors become
    // exceptions that `main` turns into exit code 2 instead of commander's exit code 1.
    .exitOverride();
  addServeCommand(program);
  addStartCommand(program);
  addQueryCommands(program);
  addManageCommands(program);
  addEntityCommands(program);
  addReplayCommand(program);
  return program;
}

/** Runs the CLI and returns its exit code. */
async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    const opts = program.opts<{ json?: boolean; verbose?: boolean }>();
    const json = opts.json === true || argv.includes("--json");
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help, or the version) already.
      if (error.exitCode === 0) return 0;
      if (json) new Output(true).result({ error: { code: "USAGE", message: error.message } }, () => "");
      return EXIT_USAGE;
    }
    new Output(json).error(error, opts.verbose === true || argv.includes("--verbose"));
    return exitCodeOf(error);
  }
}

function packageVersion(): string {
  // src/cli/main.ts and dist/src/cli/main.js sit two and three folders below package.json.
  for (const path of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "perdure" && pkg.version) return pkg.version;
    } catch {
      // Try the next candidate.
    }
  }
  return "0.0.0";
}

const code = await main(process.argv);
// `serve` returns once it has shut down. Exit explicitly (after stdout has drained), so that
// handles an app module left open do not keep the CLI running.
process.stdout.write("", () => process.exit(code));
