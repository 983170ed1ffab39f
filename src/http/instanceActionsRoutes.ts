import type { FastifyInstance, FastifyReply } from "fastify";
import { PerdureError } from "../errors/errors.js";
import type { ManagementContext } from "./context.js";
import { withStatuses } from "./errors.js";
import { BOOLEAN, flag, INSTANCE_ID, NAME, REASON, SECONDS } from "./queryParams.js";
import { send, startedReply } from "./replies.js";

interface ActionRoute {
  Params: { instanceId: string };
  Querystring: { reason?: string };
}
interface RaiseEventRoute {
  Params: { instanceId: string; eventName: string };
  Body: unknown;
}
interface RestartRoute {
  Params: { instanceId: string };
  Querystring: {
    restartWithNewInstanceId?: string;
    timeout?: number;
    pollingInterval?: number;
    showHistory?: string;
    showHistoryOutput?: string;
    showInput?: string;
    returnInternalServerErrorOnFailure?: string;
  };
}

const instanceParams = { type: "object", properties: { instanceId: INSTANCE_ID } } as const;
const actionSchema = {
  params: instanceParams,
  querystring: { type: "object", properties: { reason: REASON } },
} as const;

/** 202 Accepted with no body, as Durable Functions answers. */
const accepted = (reply: FastifyReply) => reply.code(202).send();

/**
 * `POST /instances/{id}/raiseEvent/{event}`, `/terminate`, `/suspend`, `/resume`, `/rewind`
 * and `/restart`: 202 when done, 404 for an unknown instance, 410 when its status forbids
 * the operation — except where Durable Functions answers otherwise: 412 to rewind an instance
 * that has not failed, 409 to restart under its own id an instance that is still active.
 */
export function instanceActionsRoutes(app: FastifyInstance, ctx: ManagementContext): void {
  const { client } = ctx;
  app.post<RaiseEventRoute>(
    "/instances/:instanceId/raiseEvent/:eventName",
    { schema: { params: { type: "object", properties: { instanceId: INSTANCE_ID, eventName: NAME } } } },
    async (request, reply) => {
      await client.raiseEvent(request.params.instanceId, request.params.eventName, request.body);
      return accepted(reply);
    },
  );
  app.post<ActionRoute>("/instances/:instanceId/terminate", { schema: actionSchema }, async (request, reply) => {
    await client.terminate(request.params.instanceId, request.query.reason);
    return accepted(reply);
  });
  app.post<ActionRoute>("/instances/:instanceId/suspend", { schema: actionSchema }, async (request, reply) => {
    await client.suspend(request.params.instanceId, request.query.reason);
    return accepted(reply);
  });
  app.post<ActionRoute>("/instances/:instanceId/resume", { schema: actionSchema }, async (request, reply) => {
    await client.resume(request.params.instanceId, request.query.reason);
    return accepted(reply);
  });
  app.post<ActionRoute>("/instances/:instanceId/rewind", { schema: actionSchema }, async (request, reply) => {
    try {
      await client.rewind(request.params.instanceId, request.query.reason);
    } catch (error) {
      // Durable Functions answers these with the message as a JSON string, which its
      // client shows as the error; an object would reach the user as "[object Object]".
      const code = error instanceof PerdureError ? error.code : undefined;
      const refused = code === "INVALID_INSTANCE_STATE" || code === "REWIND_NOT_POSSIBLE";
      const status = code === "INSTANCE_NOT_FOUND" ? 404 : refused ? 412 : undefined;
      if (status === undefined) throw error;
      return send(reply, { status, headers: {}, body: (error as Error).message });
    }
    return accepted(reply);
  });
  app.post<RestartRoute>(
    "/instances/:instanceId/restart",
    {
      schema: {
        params: instanceParams,
        querystring: {
          type: "object",
          properties: {
            restartWithNewInstanceId: BOOLEAN,
            timeout: SECONDS,
            pollingInterval: SECONDS,
            showHistory: BOOLEAN,
            showHistoryOutput: BOOLEAN,
            showInput: BOOLEAN,
            returnInternalServerErrorOnFailure: BOOLEAN,
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      // Durable Functions restarts under a new id unless told otherwise.
      const newId = flag(q.restartWithNewInstanceId, true);
      const id = await withStatuses(client.restart(request.params.instanceId, { newInstanceId: newId }), {
        INVALID_INSTANCE_STATE: 409,
      });
      const response = await startedReply(app, ctx, request, id, q.timeout, {
        showHistory: flag(q.showHistory, false),
        showHistoryOutput: flag(q.showHistoryOutput, false),
        showInput: flag(q.showInput, true),
        returnInternalServerErrorOnFailure: flag(q.returnInternalServerErrorOnFailure, false),
      });
      return send(reply, response);
    },
  );
}
