import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Store } from "../store/store.js";
import type { AnyActivity, AnyOrchestration } from "../worker/worker.js";
import { CliError } from "./cliError.js";

/** What `--app <module>` exports: the definitions a worker runs, and optionally its store. */
export interface AppModule {
  orchestrations: AnyOrchestration[];
  activities: AnyActivity[];
  store?: Store;
}

/**
 * Imports the user's app module. It exports `orchestrations` and `activities` arrays (and
 * may export `store`), as named exports or as properties of its default export. A
 * TypeScript module needs a loader: `NODE_OPTIONS="--import tsx" perdure serve --app app.ts`.
 */
export async function loadApp(path: string): Promise<AppModule> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError("APP_MODULE", `--app ${path}: no such file (${file}).`);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const hint = file.endsWith(".ts") ? ' A TypeScript module needs NODE_OPTIONS="--import tsx".' : "";
    throw new CliError("APP_MODULE", `--app ${path} could not be imported (${(error as Error).message}).${hint}`);
  }
  const source = "orchestrations" in loaded ? loaded : ((loaded.default ?? {}) as Record<string, unknown>);
  const orchestrations = definitions(source.orchestrations, "orchestration", path);
  const activities = source.activities === undefined ? [] : definitions(source.activities, "activity", path);
  const app: AppModule = {
    orchestrations: orchestrations as AnyOrchestration[],
    activities: activities as AnyActivity[],
  };
  if (source.store !== undefined) app.store = checkStore(source.store, path);
  return app;
}

/** The orchestration registered under `name`, or a usage error listing the known ones. */
export function findOrchestration(app: AppModule, name: string): AnyOrchestration {
  const found = app.orchestrations.find((o) => o.name === name);
  if (found) return found;
  const known = app.orchestrations.map((o) => o.name).join(", ") || "none";
  throw new CliError("USAGE", `The app has no orchestration named "${name}" (it has: ${known}).`);
}

function definitions(value: unknown, kind: "orchestration" | "activity", path: string): unknown[] {
  const plural = kind === "orchestration" ? "orchestrations" : "activities";
  if (!Array.isArray(value)) {
    throw new CliError("APP_MODULE", `--app ${path} must export an array "${plural}" (of ${kind}() definitions).`);
  }
  for (const [index, item] of value.entries()) {
    if ((item as { kind?: unknown } | null)?.kind !== kind) {
      throw new CliError("APP_MODULE", `--app ${path}: ${plural}[${index}] is not a definition made with ${kind}().`);
    }
  }
  return value;
}

function checkStore(value: unknown, path: string): Store {
  const store = value as Partial<Store> | null;
  if (typeof store?.listInstances !== "function" || typeof store.close !== "function") {
    throw new CliError("APP_MODULE", `--app ${path}: "store" is not a Perdure store (such as sqliteStore("app.db")).`);
  }
  return store as Store;
}
