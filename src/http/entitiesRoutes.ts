import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type {
  EntityOperationEntry,
  EntityOperationsResult,
  EntityStatus,
  ListEntitiesOptions,
} from "../entities/entityClient.js";
import type { ManagementContext } from "./context.js";
import { HttpError } from "./errors.js";
import { CONTINUATION_HEADER, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./instancesRoutes.js";
import { BOOLEAN, flag, NAME, parseTime, TIME } from "./queryParams.js";
import { send } from "./replies.js";

/** An entity key in a path: what `checkEntityKey` accepts (NUL cannot reach a URL path). */
const KEY = { type: "string", minLength: 1, maxLength: 1000 } as const;

interface SignalRoute {
  Params: { name: string; key: string };
  Querystring: { op: string; scheduledTime?: string };
  Body: unknown;
}
interface GetRoute {
  Params: { name: string; key: string };
  Querystring: { details?: string };
}
interface ListRoute {
  Params: { name?: string };
  Querystring: { fetchState?: string; top?: number; keyPrefix?: string; lastOperationTimeFrom?: string };
}

/** One entity in a list, in Durable Functions' shape. */
interface EntityJson {
  entityId: { name: string; key: string };
  lastOperationTime: string | null;
  state?: unknown;
}

/** `GET /entities/{name}/{key}?details=true` (a Perdure extra, for the dashboard): all that is known of an entity. */
interface EntityDetailsJson {
  entityId: { name: string; key: string };
  exists: boolean;
  state: unknown;
  lastOperationTime: string | null;
  lockedBy: string | null;
  pendingOperations: number;
  recentOperations: OperationJson[];
}

interface OperationJson extends Omit<EntityOperationEntry, "appliedAt"> {
  appliedTime: string;
}

/**
 * Durable Functions' entity routes:
 * - `POST /entities/{name}/{key}?op={operation}` signals the entity, with the request body
 *   as the operation's input (and `scheduledTime` to deliver it later): 202, empty body.
 * - `GET /entities/{name}/{key}`: the entity's state as the body, or 404 if it has none.
 *   With `details=true` (Perdure's own): an object with the state, last change, lock holder,
 *   pending count and recent operations; 404 only if nothing at all is known of the entity.
 * - `GET /entities[/{name}]`: entities with state, by name then key, `top` per page, paged
 *   with the `x-ms-continuation-token` header; `fetchState=true` includes each state.
 */
export function entitiesRoutes(app: FastifyInstance, ctx: ManagementContext): void {
  const entityParams = { type: "object", properties: { name: NAME, key: KEY } } as const;

  app.post<SignalRoute>(
    "/entities/:name/:key",
    {
      schema: {
        params: entityParams,
        querystring: {
          type: "object",
          required: ["op"],
          properties: { op: { type: "string", minLength: 1, maxLength: 256 }, scheduledTime: TIME },
        },
      },
    },
    async (request, reply) => {
      const { name, key } = request.params;
      const at = parseTime(request.query.scheduledTime, "scheduledTime");
      await ctx.client.signalEntity(name, key, request.query.op, request.body, at ? { at } : {});
      return reply.code(202).send();
    },
  );

  const getSchema = {
    params: entityParams,
    querystring: { type: "object", properties: { details: BOOLEAN } },
  } as const;
  app.get<GetRoute>("/entities/:name/:key", { schema: getSchema }, async (request, reply) => {
    const { name, key } = request.params;
    if (flag(request.query.details, false)) {
      const [entity, operations] = await Promise.all([
        ctx.client.getEntity(name, key),
        ctx.client.getEntityOperations(name, key),
      ]);
      const known =
        entity.exists || entity.lockedBy !== undefined || operations.pending > 0 || operations.operations.length > 0;
      if (!known)
        throw new HttpError(404, "ENTITY_NOT_FOUND", `Nothing is known of entity ${name}@${key.slice(0, 256)}.`);
      return send(reply, { status: 200, headers: {}, body: toDetailsJson(entity, operations) });
    }
    const entity = await ctx.client.getEntity(name, key);
    if (!entity.exists) {
      throw new HttpError(404, "ENTITY_NOT_FOUND", `Entity ${name}@${key.slice(0, 256)} has no state.`);
    }
    return send(reply, { status: 200, headers: {}, body: entity.state ?? null });
  });

  const list = async (request: FastifyRequest<ListRoute>, reply: FastifyReply) => {
    const q = request.query;
    const options: ListEntitiesOptions = { pageSize: Math.min(q.top ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) };
    if (request.params.name) options.name = request.params.name;
    if (q.keyPrefix) options.keyPrefix = q.keyPrefix;
    const token = request.headers[CONTINUATION_HEADER];
    if (typeof token === "string" && token !== "") {
      if (token.length > 2048) throw new HttpError(400, "INVALID_ARGUMENT", `${CONTINUATION_HEADER} is too long.`);
      options.continuationToken = token;
    }
    const from = parseTime(q.lastOperationTimeFrom, "lastOperationTimeFrom");
    const page = await ctx.client.listEntities(options);
    const fetchState = flag(q.fetchState, false);
    const body = page.entities
      .filter((e) => !from || (e.lastModified !== undefined && e.lastModified >= from))
      .map((e) => toEntityJson(e, fetchState));
    const headers: Record<string, string> = {};
    if (page.continuationToken) headers[CONTINUATION_HEADER] = page.continuationToken;
    return send(reply, { status: 200, headers, body });
  };
  const listSchema = {
    querystring: {
      type: "object",
      properties: {
        fetchState: BOOLEAN,
        top: { type: "integer", minimum: 1 },
        keyPrefix: { type: "string", maxLength: 1000 },
        lastOperationTimeFrom: TIME,
      },
    },
  } as const;
  app.get<ListRoute>("/entities", { schema: listSchema }, list);
  app.get<ListRoute>("/entities/", { schema: listSchema }, list);
  app.get<ListRoute>(
    "/entities/:name",
    { schema: { ...listSchema, params: { type: "object", properties: { name: NAME } } } },
    list,
  );
}

function toDetailsJson(entity: EntityStatus, log: EntityOperationsResult): EntityDetailsJson {
  return {
    entityId: { name: entity.name, key: entity.key },
    exists: entity.exists,
    state: entity.exists ? (entity.state ?? null) : null,
    lastOperationTime: entity.lastModified ? entity.lastModified.toISOString() : null,
    lockedBy: entity.lockedBy ?? null,
    pendingOperations: log.pending,
    recentOperations: log.operations.map(({ appliedAt, ...rest }) => ({
      ...rest,
      appliedTime: appliedAt.toISOString(),
    })),
  };
}

function toEntityJson(entity: EntityStatus, fetchState: boolean): EntityJson {
  const json: EntityJson = {
    entityId: { name: entity.name, key: entity.key },
    lastOperationTime: entity.lastModified ? entity.lastModified.toISOString() : null,
  };
  if (fetchState) json.state = entity.state ?? null;
  return json;
}
