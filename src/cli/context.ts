import type { Command } from "commander";
import { type Client, createClient } from "../client/client.js";
import type { Store } from "../store/store.js";
import { CliError } from "./cliError.js";
import { Output } from "./output.js";
import { openStore } from "./storeOption.js";

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  store: string;
  json: boolean;
  verbose: boolean;
}

/** What a command's action works with: the global options, the output, and the store. */
export class CommandContext {
  readonly options: GlobalOptions;
  readonly output: Output;

  constructor(private readonly command: Command) {
    const all = command.optsWithGlobals() as Partial<GlobalOptions>;
    this.options = { store: all.store ?? "", json: all.json === true, verbose: all.verbose === true };
    this.output = new Output(this.options.json);
  }

  /** Whether `--store` was given on the command line or in PERDURE_STORE (not just the default). */
  storeChosen(): boolean {
    let command: Command | null = this.command;
    while (command?.parent) command = command.parent;
    return command?.getOptionValueSource("store") !== "default";
  }

  /**
   * The store to use: the app module's when it exports one (a `--store` given as well is
   * then a contradiction), else `--store`.
   */
  async resolveStore(appStore: Store | undefined, options: { mustExist: boolean }): Promise<Store> {
    if (!appStore) return openStore(this.options.store, options);
    if (this.storeChosen()) {
      throw new CliError("USAGE", "The app module exports a store, so --store (or PERDURE_STORE) must not be given.");
    }
    return appStore;
  }

  /** Runs `fn` with a client on `--store`, closing the store afterwards. */
  async withClient<T>(fn: (client: Client, store: Store) => Promise<T>): Promise<T> {
    const store = await openStore(this.options.store, { mustExist: true });
    try {
      return await fn(createClient({ store }), store);
    } finally {
      await store.close();
    }
  }
}
