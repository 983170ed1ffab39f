import type { FastifyPluginAsync } from "fastify";
import type { Client } from "../client/client.js";
import { InvalidArgumentError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import type { AnyOrchestration } from "../worker/worker.js";
import { checkApiKey, requireApiKey } from "./apiKey.js";
import type { ManagementContext } from "./context.js";
import { entitiesRoutes } from "./entitiesRoutes.js";
import { errorHandler, notFoundHandler } from "./errors.js";
import { instanceActionsRoutes } from "./instanceActionsRoutes.js";
import { instancesRoutes } from "./instancesRoutes.js";
import { acceptJsonBodiesOnly, DEFAULT_BODY_LIMIT } from "./jsonBody.js";
import { orchestratorsRoutes } from "./orchestratorsRoutes.js";

export interface ManagementPluginOptions {
  client: Client;
  /** The orchestrations `POST /orchestrators/{name}` may start. Default: none. */
  orchestrations?: AnyOrchestration[];
  /** Require this key (header `x-functions-key` or query `code`) on every route of the plugin. */
  apiKey?: string;
  /** Largest request body in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Where unexpected errors are logged. Default `console`. */
  logger?: Logger;
  /**
   * Include the stack traces of failed instances and activities (`failureDetails.stackTrace`,
   * history `FailureDetails.StackTrace`). Default false: they show file paths and code.
   */
  showFailureStacks?: boolean;
}

/** Checks a body limit option: a positive whole number of bytes. */
export function checkBodyLimit(bodyLimit: unknown): number {
  if (bodyLimit === undefined) return DEFAULT_BODY_LIMIT;
  if (typeof bodyLimit !== "number" || !Number.isSafeInteger(bodyLimit) || bodyLimit < 1) {
    throw new InvalidArgumentError(`bodyLimit must be a positive whole number of bytes, got ${String(bodyLimit)}.`);
  }
  return bodyLimit;
}

function byName(orchestrations: AnyOrchestration[]): Map<string, AnyOrchestration> {
  const map = new Map<string, AnyOrchestration>();
  for (const definition of orchestrations) {
    if (definition?.kind !== "orchestration") {
      throw new InvalidArgumentError("orchestrations must hold definitions created with orchestration().");
    }
    if (map.has(definition.name)) {
      throw new InvalidArgumentError(`Two orchestrations are named "${definition.name}".`);
    }
    map.set(definition.name, definition);
  }
  return map;
}

/**
 * The Durable Functions HTTP management API as a Fastify plugin, for an app of your own:
 * `app.register(perdureManagementPlugin, { prefix: MANAGEMENT_PREFIX, client, orchestrations })`.
 * It is encapsulated: its JSON-only body parser, key check, error and 404 handlers apply to
 * its routes only. Instance ids may have 256 characters: give your app `maxParamLength: 1024`.
 */
export const perdureManagementPlugin: FastifyPluginAsync<ManagementPluginOptions> = async (app, options) => {
  if (!options?.client)
    throw new InvalidArgumentError("perdureManagementPlugin needs a client: createClient({ store }).");
  const apiKey = checkApiKey(options.apiKey);
  const ctx: ManagementContext = {
    client: options.client,
    orchestrations: byName(options.orchestrations ?? []),
    apiKey,
    showFailureStacks: options.showFailureStacks === true,
  };
  acceptJsonBodiesOnly(app, checkBodyLimit(options.bodyLimit));
  app.setErrorHandler(errorHandler(options.logger ?? console));
  app.setNotFoundHandler(notFoundHandler);
  if (apiKey !== undefined) app.addHook("onRequest", requireApiKey(apiKey));
  orchestratorsRoutes(app, ctx);
  instancesRoutes(app, ctx);
  instanceActionsRoutes(app, ctx);
  entitiesRoutes(app, ctx);
};
