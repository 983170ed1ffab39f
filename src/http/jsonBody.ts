import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors.js";

/** Default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Deepest nesting of arrays and objects a body may have (as Json.NET's default, which
 * Durable Functions uses). Deeper values could exhaust the stack of code that walks them
 * recursively, such as the check that an input can be stored.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests arrays or objects more than `max` levels deep; walks without recursion. */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * Makes JSON the only request body the instance accepts (others get 415), up to `bodyLimit`
 * bytes (413 beyond) and `MAX_JSON_DEPTH` levels (400). An empty body is no input, as
 * Durable Functions treats it: its client posts "" with a JSON content type to start an
 * orchestration without input. Objects with `__proto__` or `constructor.prototype` keys are
 * refused (Fastify's secure parser).
 */
export function acceptJsonBodiesOnly(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parse = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    parse(request, text, (error, value) => {
      if (error) done(error, undefined);
      else if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
        done(new HttpError(400, "JSON_TOO_DEEP", `The request body nests more than ${MAX_JSON_DEPTH} levels deep.`));
      } else done(null, value);
    });
  });
}
