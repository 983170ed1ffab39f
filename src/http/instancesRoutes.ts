import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ListOptions } from "../client/listQuery.js";
import type { ManagementContext } from "./context.js";
import { HttpError, withStatuses } from "./errors.js";
import { BOOLEAN, flag, INSTANCE_ID, NAME, parseStatuses, parseTime, STATUS_LIST, TIME } from "./queryParams.js";
import { send, statusReply } from "./replies.js";
import { toStatusJson } from "./statusJson.js";

/** Paging header, both ways, as in Durable Functions. */
export const CONTINUATION_HEADER = "x-ms-continuation-token";
/** Instances per page when `top` is not given, and the most a page holds. */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

interface ListRoute {
  Querystring: {
    createdTimeFrom?: string;
    createdTimeTo?: string;
    runtimeStatus?: string;
    instanceIdPrefix?: string;
    name?: string;
    showInput?: string;
    top?: number;
  };
}
interface StatusRoute {
  Params: { instanceId: string };
  Querystring: {
    showHistory?: string;
    showHistoryOutput?: string;
    showInput?: string;
    returnInternalServerErrorOnFailure?: string;
  };
}
interface PurgeRoute {
  Params: { instanceId: string };
}
interface PurgeManyRoute {
  Querystring: { createdTimeFrom?: string; createdTimeTo?: string; runtimeStatus?: string };
}

const instanceParams = { type: "object", properties: { instanceId: INSTANCE_ID } } as const;

/**
 * `GET /instances` (list, paged), `GET /instances/{id}` (status), `DELETE /instances/{id}` and
 * `DELETE /instances?createdTimeFrom=…` (purge). Both `/instances` and `/instances/` are
 * served: Durable Functions' client lists with the trailing slash.
 */
export function instancesRoutes(app: FastifyInstance, ctx: ManagementContext): void {
  const list = async (request: FastifyRequest<ListRoute>, reply: FastifyReply) => {
    const q = request.query;
    const statuses = parseStatuses(q.runtimeStatus);
    // A filter of only Durable Functions' Canceled status matches nothing.
    if (statuses?.length === 0) return send(reply, { status: 200, headers: {}, body: [] });
    const options: ListOptions = { pageSize: Math.min(q.top ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) };
    const from = parseTime(q.createdTimeFrom, "createdTimeFrom");
    const to = parseTime(q.createdTimeTo, "createdTimeTo");
    if (from) options.createdFrom = from;
    if (to) options.createdTo = to;
    if (statuses) options.runtimeStatus = statuses;
    if (q.instanceIdPrefix) options.instanceIdPrefix = q.instanceIdPrefix;
    if (q.name) options.name = q.name;
    const token = request.headers[CONTINUATION_HEADER];
    if (typeof token === "string" && token !== "") {
      if (token.length > 2048) throw new HttpError(400, "INVALID_ARGUMENT", `${CONTINUATION_HEADER} is too long.`);
      options.continuationToken = token;
    }
    const page = await ctx.client.list(options);
    const showInput = flag(q.showInput, true);
    const headers: Record<string, string> = {};
    if (page.continuationToken) headers[CONTINUATION_HEADER] = page.continuationToken;
    const body = page.instances.map((status) => toStatusJson(status, { showInput, showStacks: ctx.showFailureStacks }));
    return send(reply, { status: 200, headers, body });
  };
  const listSchema = {
    querystring: {
      type: "object",
      properties: {
        createdTimeFrom: TIME,
        createdTimeTo: TIME,
        runtimeStatus: STATUS_LIST,
        instanceIdPrefix: { type: "string", maxLength: 256 },
        name: NAME,
        showInput: BOOLEAN,
        top: { type: "integer", minimum: 1 },
      },
    },
  } as const;
  app.get<ListRoute>("/instances", { schema: listSchema }, list);
  app.get<ListRoute>("/instances/", { schema: listSchema }, list);

  app.get<StatusRoute>(
    "/instances/:instanceId",
    {
      schema: {
        params: instanceParams,
        querystring: {
          type: "object",
          properties: {
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
      const response = await statusReply(ctx, request, request.params.instanceId, {
        showHistory: flag(q.showHistory, false),
        showHistoryOutput: flag(q.showHistoryOutput, false),
        showInput: flag(q.showInput, true),
        returnInternalServerErrorOnFailure: flag(q.returnInternalServerErrorOnFailure, false),
      });
      return send(reply, response);
    },
  );

  // Durable Functions answers 412 Precondition Failed for an instance that has not finished.
  app.delete<PurgeRoute>("/instances/:instanceId", { schema: { params: instanceParams } }, async (request, reply) => {
    await withStatuses(ctx.client.purge(request.params.instanceId), { INVALID_INSTANCE_STATE: 412 });
    return send(reply, { status: 200, headers: {}, body: { instancesDeleted: 1 } });
  });

  const purgeMany = async (request: FastifyRequest<PurgeManyRoute>, reply: FastifyReply) => {
    const q = request.query;
    // As in Durable Functions: createdTimeFrom is required, so that no request purges everything by accident.
    const from = parseTime(q.createdTimeFrom, "createdTimeFrom");
    if (!from) throw new HttpError(400, "INVALID_ARGUMENT", "Purging by filter needs createdTimeFrom.");
    const to = parseTime(q.createdTimeTo, "createdTimeTo");
    const statuses = parseStatuses(q.runtimeStatus);
    const deleted =
      statuses?.length === 0
        ? 0
        : await ctx.client.purgeInstances({
            createdFrom: from,
            ...(to ? { createdTo: to } : {}),
            ...(statuses ? { runtimeStatus: statuses } : {}),
          });
    // Durable Functions answers 404 when nothing matched; the body still says how many.
    return send(reply, { status: deleted === 0 ? 404 : 200, headers: {}, body: { instancesDeleted: deleted } });
  };
  const purgeManySchema = {
    querystring: {
      type: "object",
      properties: { createdTimeFrom: TIME, createdTimeTo: TIME, runtimeStatus: STATUS_LIST },
    },
  } as const;
  app.delete<PurgeManyRoute>("/instances", { schema: purgeManySchema }, purgeMany);
  app.delete<PurgeManyRoute>("/instances/", { schema: purgeManySchema }, purgeMany);
}
