import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { InstanceNotFoundError, TimeoutError } from "../errors/errors.js";
import {
  createCheckStatusResponse,
  type ManagementLinkOptions,
  type ManagementResponse,
  type RequestLike,
  requestOrigin,
} from "./checkStatus.js";
import type { ManagementContext } from "./context.js";
import { toStatusJson } from "./statusJson.js";

/** Sends a response with its body serialised as JSON (whatever JSON value it is). */
export function send(reply: FastifyReply, response: ManagementResponse): FastifyReply {
  for (const [name, value] of Object.entries(response.headers)) {
    if (name.toLowerCase() !== "content-type") reply.header(name, value);
  }
  return reply
    .code(response.status)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify(response.body ?? null));
}

export function requestLike(request: FastifyRequest): RequestLike {
  return { url: request.url, headers: request.headers, protocol: request.protocol };
}

/** Link options for the routes of `app`: its prefix, and the key when one is required. */
export function linkOptions(app: FastifyInstance, ctx: ManagementContext): ManagementLinkOptions {
  return ctx.apiKey === undefined ? { routePrefix: app.prefix } : { routePrefix: app.prefix, apiKey: ctx.apiKey };
}

export function checkStatusReply(
  app: FastifyInstance,
  ctx: ManagementContext,
  request: FastifyRequest,
  instanceId: string,
): ManagementResponse {
  return createCheckStatusResponse(requestLike(request), instanceId, linkOptions(app, ctx));
}

export interface StatusQuery {
  showHistory: boolean;
  showHistoryOutput: boolean;
  showInput: boolean;
  returnInternalServerErrorOnFailure: boolean;
}

/**
 * An instance's status as Durable Functions answers it: 202 with `Location` (this request's
 * URL) and `Retry-After: 5` while it is active, 200 once it has finished (500 for a failure
 * when asked), 404 when there is no such instance.
 */
export async function statusReply(
  ctx: ManagementContext,
  request: FastifyRequest,
  instanceId: string,
  query: StatusQuery,
): Promise<ManagementResponse> {
  const status = await ctx.client.getStatus(instanceId);
  if (!status) throw new InstanceNotFoundError(instanceId);
  const history = query.showHistory ? await ctx.client.getHistory(instanceId) : undefined;
  const body = toStatusJson(status, {
    ...(history ? { history } : {}),
    showHistoryOutput: query.showHistoryOutput,
    showInput: query.showInput,
    showStacks: ctx.showFailureStacks,
  });
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  switch (status.runtimeStatus) {
    case "Pending":
    case "Running":
    case "Suspended":
    case "ContinuedAsNew":
      headers.Location = `${requestOrigin(requestLike(request))}${request.url}`;
      headers["Retry-After"] = "5";
      return { status: 202, headers, body };
    case "Failed":
      return { status: query.returnInternalServerErrorOnFailure ? 500 : 200, headers, body };
    default:
      return { status: 200, headers, body };
  }
}

/**
 * The answer to a start or restart: the 202 check-status response at once, or, with
 * `timeout` (seconds), after waiting up to that long: 200 with the output when it completed,
 * its status when it failed or was terminated, the 202 response when it is still running.
 */
export async function startedReply(
  app: FastifyInstance,
  ctx: ManagementContext,
  request: FastifyRequest,
  instanceId: string,
  timeoutSeconds: number | undefined,
  query: StatusQuery,
): Promise<ManagementResponse> {
  if (timeoutSeconds === undefined) return checkStatusReply(app, ctx, request, instanceId);
  try {
    const status = await ctx.client.waitForCompletion(instanceId, { timeout: timeoutSeconds * 1000 });
    if (status.runtimeStatus === "Completed") {
      return { status: 200, headers: { "Content-Type": "application/json" }, body: status.output ?? null };
    }
    return await statusReply(ctx, request, instanceId, query);
  } catch (error) {
    if (error instanceof TimeoutError) return checkStatusReply(app, ctx, request, instanceId);
    throw error;
  }
}
