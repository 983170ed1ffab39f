// perdure/http: the Durable Functions HTTP management API, on Fastify.

export { API_KEY_HEADER, isLoopbackHost, MIN_API_KEY_LENGTH } from "./apiKey.js";
export {
  createCheckStatusResponse,
  type HttpManagementPayload,
  httpManagementPayload,
  MANAGEMENT_PREFIX,
  type ManagementLinkOptions,
  type ManagementResponse,
  type RequestLike,
  requestOrigin,
  type WaitOrCheckStatusOptions,
  waitForCompletionOrCreateCheckStatusResponse,
} from "./checkStatus.js";
export { type ErrorBody, HttpError } from "./errors.js";
export {
  type FailureDetailsJson,
  type HistoryEventJson,
  type HistoryJsonOptions,
  toHistoryJson,
} from "./historyJson.js";
export { CONTINUATION_HEADER, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./instancesRoutes.js";
export { DEFAULT_BODY_LIMIT } from "./jsonBody.js";
export { type ManagementPluginOptions, perdureManagementPlugin } from "./managementPlugin.js";
export { createHttpServer, HEALTH_PATH, type HttpServer, type HttpServerOptions } from "./server.js";
export { type StatusFailureJson, type StatusJson, type StatusJsonOptions, toStatusJson } from "./statusJson.js";
