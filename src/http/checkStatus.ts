import type { Client } from "../client/client.js";
import type { InstanceStatus } from "../client/instanceStatus.js";
import { InvalidArgumentError, TimeoutError } from "../errors/errors.js";
import { type Duration, toMilliseconds } from "../time/duration.js";
import { toStatusJson } from "./statusJson.js";

/** Where the management API lives, as in Durable Functions. */
export const MANAGEMENT_PREFIX = "/runtime/webhooks/durabletask";

/** Links to manage one instance: Durable Functions' check-status (HTTP management) payload. */
export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
  rewindPostUri: string;
}

export interface ManagementLinkOptions {
  /** Added as `code=` to every link, so that they work as they are. */
  apiKey?: string;
  /** Where the management API is mounted. Default `/runtime/webhooks/durabletask`. */
  routePrefix?: string;
  /** Make `statusQueryGetUri` answer 500 for a Failed instance. Default false. */
  returnInternalServerErrorOnFailure?: boolean;
}

/**
 * The check-status payload for an instance: absolute links under `origin`, with the
 * `{eventName}` and `{text}` placeholders Durable Functions puts in them.
 */
export function httpManagementPayload(
  origin: string,
  instanceId: string,
  options: ManagementLinkOptions = {},
): HttpManagementPayload {
  const prefix = (options.routePrefix ?? MANAGEMENT_PREFIX).replace(/\/+$/, "");
  const instance = `${origin}${prefix}/instances/${encodeURIComponent(instanceId)}`;
  const common = options.apiKey === undefined ? "" : `code=${encodeURIComponent(options.apiKey)}`;
  const query = common === "" ? "" : `?${common}`;
  const withReason = `?reason={text}${common === "" ? "" : `&${common}`}`;
  const failureFlag = options.returnInternalServerErrorOnFailure
    ? `${query === "" ? "?" : "&"}returnInternalServerErrorOnFailure=true`
    : "";
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}${query}${failureFlag}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}${query}`,
    terminatePostUri: `${instance}/terminate${withReason}`,
    purgeHistoryDeleteUri: `${instance}${query}`,
    restartPostUri: `${instance}/restart${query}`,
    suspendPostUri: `${instance}/suspend${withReason}`,
    resumePostUri: `${instance}/resume${withReason}`,
    rewindPostUri: `${instance}/rewind${withReason}`,
  };
}

/** What the helpers need of a request: a Fastify request, a Node request or a fetch `Request`. */
export interface RequestLike {
  /** The request's URL: absolute (fetch) or a path (Node, Fastify), then the Host header is used. */
  url: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  /** "http" or "https"; default "http". */
  protocol?: string;
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The origin (scheme, host, port) the client used to reach us, for absolute links. */
export function requestOrigin(request: RequestLike): string {
  if (/^https?:\/\//i.test(request.url)) {
    try {
      return new URL(request.url).origin;
    } catch {
      // Falls back to the Host header below.
    }
  }
  const raw = request.headers instanceof Headers ? request.headers.get("host") : request.headers.host;
  const host = typeof raw === "string" && HOST.test(raw) ? raw : "localhost";
  const protocol = request.protocol === "https" ? "https" : "http";
  return `${protocol}://${host}`;
}

/** A framework-neutral HTTP response: send `body` as JSON with this status and these headers. */
export interface ManagementResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * The 202 Accepted response of the async HTTP API pattern: the check-status payload, with
 * `Location` pointing at the status and `Retry-After` telling pollers to wait 10 s.
 */
export function createCheckStatusResponse(
  request: RequestLike,
  instanceId: string,
  options: ManagementLinkOptions = {},
): ManagementResponse {
  const payload = httpManagementPayload(requestOrigin(request), instanceId, options);
  return {
    status: 202,
    headers: { "Content-Type": "application/json", Location: payload.statusQueryGetUri, "Retry-After": "10" },
    body: payload,
  };
}

/** The response for a finished instance: 200 with the output, or its status when it did not complete. */
export function completionResponse(
  status: InstanceStatus,
  returnInternalServerErrorOnFailure = false,
): ManagementResponse {
  const headers = { "Content-Type": "application/json" };
  if (status.runtimeStatus === "Completed") return { status: 200, headers, body: status.output ?? null };
  const failed = status.runtimeStatus === "Failed" && returnInternalServerErrorOnFailure;
  return { status: failed ? 500 : 200, headers, body: toStatusJson(status) };
}

export interface WaitOrCheckStatusOptions extends ManagementLinkOptions {
  /** How long to wait for the instance to finish. Default 10 s. */
  timeout?: Duration;
  /**
   * Accepted for Durable Functions compatibility; must not exceed `timeout`. The client wakes
   * as soon as an instance of its own process finishes and polls other processes' at its own
   * `pollIntervalMs`.
   */
  retryInterval?: Duration;
}

/**
 * Waits up to `timeout` for the instance to finish: 200 with its output when it completed,
 * 200 with its status when it failed or was terminated (500 for a failure with
 * `returnInternalServerErrorOnFailure`), else the 202 check-status response.
 */
export async function waitForCompletionOrCreateCheckStatusResponse(
  client: Client,
  request: RequestLike,
  instanceId: string,
  options: WaitOrCheckStatusOptions = {},
): Promise<ManagementResponse> {
  const timeoutMs = toMilliseconds(options.timeout ?? 10_000, "timeout");
  const retryMs = toMilliseconds(options.retryInterval ?? Math.min(1_000, timeoutMs), "retryInterval");
  if (retryMs > timeoutMs) {
    throw new InvalidArgumentError(`retryInterval (${retryMs} ms) must not exceed timeout (${timeoutMs} ms).`);
  }
  try {
    const status = await client.waitForCompletion(instanceId, { timeout: timeoutMs });
    return completionResponse(status, options.returnInternalServerErrorOnFailure);
  } catch (error) {
    if (error instanceof TimeoutError) return createCheckStatusResponse(request, instanceId, options);
    throw error;
  }
}
