import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { OrchestrationDefinition } from "../definitions/orchestration.js";
import type { ManagementContext } from "./context.js";
import { HttpError } from "./errors.js";
import { BOOLEAN, flag, INSTANCE_ID, NAME, SECONDS } from "./queryParams.js";
import { send, startedReply } from "./replies.js";

interface StartRoute {
  Params: { name: string; instanceId?: string };
  Querystring: {
    timeout?: number;
    pollingInterval?: number;
    showHistory?: string;
    showHistoryOutput?: string;
    showInput?: string;
    returnInternalServerErrorOnFailure?: string;
  };
  Body: unknown;
}

const querystring = {
  type: "object",
  properties: {
    timeout: SECONDS,
    pollingInterval: SECONDS,
    showHistory: BOOLEAN,
    showHistoryOutput: BOOLEAN,
    showInput: BOOLEAN,
    returnInternalServerErrorOnFailure: BOOLEAN,
  },
} as const;

/**
 * `POST /orchestrators/{name}[/{instanceId}]`: starts an instance of a known orchestration
 * with the request body as its input. An id that names a finished instance starts a new run
 * under it (Durable Functions' default); one that names an active instance is a 409.
 */
export function orchestratorsRoutes(app: FastifyInstance, ctx: ManagementContext): void {
  const start = async (request: FastifyRequest<StartRoute>, reply: FastifyReply) => {
    const { name, instanceId } = request.params;
    const definition = ctx.orchestrations.get(name);
    if (!definition) {
      const known = [...ctx.orchestrations.keys()];
      const list =
        known.length === 0
          ? "none"
          : known
              .slice(0, 50)
              .map((n) => JSON.stringify(n))
              .join(", ");
      throw new HttpError(
        404,
        "UNKNOWN_ORCHESTRATION",
        `No orchestration named ${JSON.stringify(name.slice(0, 256))} can be started here; known: ${list}.`,
      );
    }
    const id = await ctx.client.start(definition as OrchestrationDefinition<unknown, unknown>, request.body, {
      ...(instanceId === undefined ? {} : { instanceId }),
      replaceIfFinished: true,
    });
    const q = request.query;
    const response = await startedReply(app, ctx, request, id, q.timeout, {
      showHistory: flag(q.showHistory, false),
      showHistoryOutput: flag(q.showHistoryOutput, false),
      showInput: flag(q.showInput, true),
      returnInternalServerErrorOnFailure: flag(q.returnInternalServerErrorOnFailure, false),
    });
    return send(reply, response);
  };
  app.post<StartRoute>(
    "/orchestrators/:name",
    { schema: { params: { type: "object", properties: { name: NAME } }, querystring } },
    start,
  );
  app.post<StartRoute>(
    "/orchestrators/:name/:instanceId",
    { schema: { params: { type: "object", properties: { name: NAME, instanceId: INSTANCE_ID } }, querystring } },
    start,
  );
}
