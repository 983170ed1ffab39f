import Fastify, { type FastifyInstance } from "fastify";
import { type Client, createClient } from "../client/client.js";
import { InvalidArgumentError } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";
import type { Store } from "../store/store.js";
import type { AnyOrchestration } from "../worker/worker.js";
import { checkApiKey, isLoopbackHost } from "./apiKey.js";
import {
  createCheckStatusResponse,
  MANAGEMENT_PREFIX,
  type ManagementResponse,
  type RequestLike,
  type WaitOrCheckStatusOptions,
  waitForCompletionOrCreateCheckStatusResponse,
} from "./checkStatus.js";
import { dashboardPlugin } from "./dashboard/plugin.js";
import { clientErrorHandler, describeError, errorHandler, notFoundHandler, sendError } from "./errors.js";
import { checkBodyLimit, perdureManagementPlugin } from "./managementPlugin.js";

export interface HttpServerOptions {
  /** The client the API acts through. Default: a client of `store`. */
  client?: Client;
  /** The store, when no client is given. */
  store?: Store;
  /** The orchestrations `POST /orchestrators/{name}` may start. Default: none. */
  orchestrations?: AnyOrchestration[];
  /**
   * Required on every request (header `x-functions-key` or query `code`) when set; at least
   * 16 characters. A server bound to anything but loopback refuses to start without one.
   */
  apiKey?: string;
  /** Interface to bind. Default `127.0.0.1`: only this machine can connect. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 7071, as Azure Functions' local host. */
  port?: number;
  /** Largest request body in bytes; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Where unexpected errors are logged. Default `console`. */
  logger?: Logger;
  /** Serve the web dashboard at `/`. Default true. */
  dashboard?: boolean;
  /** Include the stack traces of recorded failures in the API's JSON. Default false. */
  showFailureStacks?: boolean;
}

export interface HttpServer {
  /** The Fastify app: add routes or hooks before `listen`, or call `app.inject` in tests. */
  readonly app: FastifyInstance;
  /** Starts listening; resolves with the base URL, such as `http://127.0.0.1:7071`. */
  listen(): Promise<string>;
  close(): Promise<void>;
  /** The 202 check-status response for an instance, with links to this server's API. */
  createCheckStatusResponse(request: RequestLike, instanceId: string): ManagementResponse;
  /** Waits for the instance to finish, or answers with the check-status response after `timeout`. */
  waitForCompletionOrCreateCheckStatusResponse(
    request: RequestLike,
    instanceId: string,
    options?: Pick<WaitOrCheckStatusOptions, "timeout" | "retryInterval">,
  ): Promise<ManagementResponse>;
}

/** Health check path; it needs no key and says nothing but "ok". */
export const HEALTH_PATH = "/healthz";

/**
 * Creates the HTTP server: the Durable Functions management API under
 * `/runtime/webhooks/durabletask`, the dashboard at `/`, and `GET /healthz`.
 * Throws InvalidArgumentError for a non-loopback `host` without an `apiKey`.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const client = options?.client ?? (options?.store ? createClient({ store: options.store }) : undefined);
  if (!client) throw new InvalidArgumentError("createHttpServer needs a client (or a store).");
  const apiKey = checkApiKey(options.apiKey);
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host.trim() === "")
    throw new InvalidArgumentError("host must be a host name or address.");
  if (!isLoopbackHost(host) && apiKey === undefined) {
    throw new InvalidArgumentError(
      `Refusing to serve on ${host} without an API key: anyone who can reach it could start, stop and purge instances. Pass apiKey, or bind to 127.0.0.1.`,
    );
  }
  const port = options.port ?? 7071;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidArgumentError(`port must be an integer from 0 to 65535, got ${String(port)}.`);
  }
  const bodyLimit = checkBodyLimit(options.bodyLimit);
  const logger = options.logger ?? console;

  const app = Fastify({
    logger: false,
    bodyLimit,
    // Instance ids have up to 256 characters, percent-encoded up to three times as many.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    clientErrorHandler,
    // Malformed URLs (bad percent-encoding) get the same JSON errors as everything else.
    frameworkErrors: (error, _request, reply) => {
      const { status, body } = describeError(error);
      sendError(reply, status, body);
    },
  });
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler(notFoundHandler);
  app.get(HEALTH_PATH, async (_request, reply) => reply.type("application/json").send('{"status":"ok"}'));
  app.register(perdureManagementPlugin, {
    prefix: MANAGEMENT_PREFIX,
    client,
    orchestrations: options.orchestrations ?? [],
    ...(apiKey === undefined ? {} : { apiKey }),
    bodyLimit,
    logger,
    showFailureStacks: options.showFailureStacks === true,
  });
  // The dashboard's page and assets hold no data (it reads the API above, passing on the
  // `?code=` it was opened with), so they are served without the key.
  if (options.dashboard !== false) app.register(dashboardPlugin);

  const linkOptions = apiKey === undefined ? {} : { apiKey };
  return {
    app,
    async listen() {
      return app.listen({ host, port });
    },
    async close() {
      await app.close();
    },
    createCheckStatusResponse: (request, instanceId) => createCheckStatusResponse(request, instanceId, linkOptions),
    waitForCompletionOrCreateCheckStatusResponse: (request, instanceId, waitOptions = {}) =>
      waitForCompletionOrCreateCheckStatusResponse(client, request, instanceId, { ...waitOptions, ...linkOptions }),
  };
}
