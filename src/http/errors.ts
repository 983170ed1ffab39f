import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { PerdureError, type PerdureErrorCode } from "../errors/errors.js";
import type { Logger } from "../orchestration/logger.js";

/** The JSON body of every error the management API returns. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error meant for the HTTP client as it is: its status, code and message are safe to show. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** HTTP statuses of the Perdure errors a client call can raise; any other error is a 500. */
const STATUS_BY_CODE: Partial<Record<PerdureErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_SERIALIZABLE: 400,
  INVALID_INSTANCE_ID: 400,
  INSTANCE_NOT_FOUND: 404,
  UNKNOWN_ORCHESTRATION: 404,
  INSTANCE_ALREADY_EXISTS: 409,
  // Durable Functions answers 410 Gone when an instance's status forbids the operation.
  INSTANCE_NOT_ACTIVE: 410,
  INVALID_INSTANCE_STATE: 410,
  UNKNOWN_ENTITY_OPERATION: 400,
  STORE_CLOSED: 503,
};

/** Fastify's own request errors (body, content type, schema), under codes of this API. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_CONTENT_LENGTH",
  FST_ERR_VALIDATION: "INVALID_REQUEST",
  FST_ERR_BAD_URL: "INVALID_URL",
};

/** Clearer words than Fastify's for the commonest mistakes. */
const MESSAGES: Record<string, string> = {
  UNSUPPORTED_MEDIA_TYPE: "Request bodies must be JSON, sent with Content-Type: application/json.",
  INVALID_JSON: "The request body is not valid JSON (or holds __proto__ or constructor.prototype keys).",
};

const INTERNAL: ErrorBody = { error: { code: "INTERNAL", message: "internal error" } };

/**
 * Runs a client call and gives some of its error codes another HTTP status, for the
 * operations where Durable Functions answers differently (rewind: 412, restart: 409, …).
 */
export async function withStatuses<T>(
  work: Promise<T>,
  statuses: Partial<Record<PerdureErrorCode, number>>,
): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const status = error instanceof PerdureError ? statuses[error.code] : undefined;
    if (status !== undefined) throw new HttpError(status, (error as PerdureError).code, (error as Error).message);
    throw error;
  }
}

/** The status and JSON body for an error; `expected: false` marks an unexpected one (500, to be logged). */
export function describeError(error: unknown): { status: number; body: ErrorBody; expected: boolean } {
  if (error instanceof HttpError) {
    return { status: error.statusCode, body: { error: { code: error.code, message: error.message } }, expected: true };
  }
  if (error instanceof PerdureError) {
    const status = STATUS_BY_CODE[error.code];
    if (status !== undefined)
      return { status, body: { error: { code: error.code, message: error.message } }, expected: true };
    return { status: 500, body: INTERNAL, expected: false };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  // Errors that carry a 4xx status (Fastify's body, content-type and schema errors) are about
  // the request, and their messages say what was wrong with it; they never hold a stack.
  if (typeof status === "number" && status >= 400 && status < 500 && typeof fastifyError.message === "string") {
    const code = FASTIFY_CODES[fastifyError.code ?? ""] ?? "BAD_REQUEST";
    const message = MESSAGES[code] ?? fastifyError.message;
    return { status, body: { error: { code, message } }, expected: true };
  }
  return { status: 500, body: INTERNAL, expected: false };
}

/** Sends an error as `{ "error": { "code", "message" } }`. */
export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type("application/json; charset=utf-8").send(JSON.stringify(body));
}

/** A Fastify error handler: known errors become 4xx JSON, anything else a logged 500 without details. */
export function errorHandler(logger: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { status, body, expected } = describeError(error);
    if (!expected) logger.error(`perdure/http: ${request.method} ${request.url.slice(0, 300)} failed`, error);
    return sendError(reply, status, body);
  };
}

/** A Fastify not-found handler answering with a JSON error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split("?")[0]?.slice(0, 300) ?? "";
  return sendError(reply, 404, { error: { code: "NOT_FOUND", message: `No route for ${request.method} ${path}.` } });
}

/**
 * Answers requests too malformed to reach Fastify's routing (bad HTTP framing, oversized
 * headers, timeouts) with the same JSON errors, then closes the connection.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, text, code, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", "REQUEST_TIMEOUT", "The request took too long to arrive."]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", "HEADERS_TOO_LARGE", "The request headers are too large."]
        : [400, "Bad Request", "BAD_REQUEST", "The request is not valid HTTP."];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
