import { createHttpServer, type HttpServer, type HttpServerOptions, MANAGEMENT_PREFIX } from "../../src/http/index.js";
import type { AnyActivity, AnyOrchestration } from "../../src/index.js";
import { capturingLogger } from "../helpers/capturingLogger.js";
import { createHarness, type Harness } from "../helpers/harness.js";

export interface HttpHarness {
  h: Harness;
  server: HttpServer;
  /** The server's base URL, such as http://127.0.0.1:41234. */
  base: string;
  /** The management API's base URL: `${base}/runtime/webhooks/durabletask`. */
  api: string;
  /** Lines the server logged as errors (unexpected failures); tests expect none. */
  errors(): string[];
  dispose(): Promise<void>;
}

/**
 * A temp SQLite store, a worker running `orchestrations` and `activities`, and the HTTP server
 * listening on 127.0.0.1 at a free port. `beforeListen` may add hooks to the Fastify app.
 */
export async function startHttpHarness(options: {
  orchestrations: AnyOrchestration[];
  activities?: AnyActivity[];
  server?: Partial<HttpServerOptions>;
  startWorker?: boolean;
  beforeListen?: (server: HttpServer) => void;
}): Promise<HttpHarness> {
  const h = createHarness();
  if (options.startWorker !== false) {
    await h.startWorker({ orchestrations: options.orchestrations, activities: options.activities ?? [] });
  }
  // Errors are kept with what was thrown (name, code, message), so that a finding says what failed.
  const errors: string[] = [];
  const logger = {
    ...capturingLogger(),
    error: (message: string, ...args: unknown[]) => {
      const detail = args.map((a) =>
        a instanceof Error ? `${a.name} ${String((a as { code?: unknown }).code)} ${a.message}` : String(a),
      );
      errors.push([message, ...detail].join(" | "));
    },
  };
  const server = createHttpServer({
    client: h.client,
    orchestrations: options.orchestrations,
    port: 0,
    logger,
    dashboard: false,
    ...options.server,
  });
  options.beforeListen?.(server);
  const base = await server.listen();
  return {
    h,
    server,
    base,
    api: `${base}${MANAGEMENT_PREFIX}`,
    errors: () => [...errors],
    async dispose() {
      await server.close();
      await h.dispose();
    },
  };
}
