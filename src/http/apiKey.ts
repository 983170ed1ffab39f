import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { InvalidArgumentError } from "../errors/errors.js";
import { HttpError } from "./errors.js";

/** Header that carries the key, as in Durable Functions (which also takes the `code` query parameter). */
export const API_KEY_HEADER = "x-functions-key";

/** Keys shorter than this are refused: they could be guessed. */
export const MIN_API_KEY_LENGTH = 16;

/** Checks the `apiKey` option: absent, or a string long enough not to be guessed. */
export function checkApiKey(apiKey: unknown): string | undefined {
  if (apiKey === undefined) return undefined;
  if (typeof apiKey !== "string" || apiKey.length < MIN_API_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `apiKey must be a string of at least ${MIN_API_KEY_LENGTH} characters, such as crypto.randomBytes(32).toString("base64url").`,
    );
  }
  return apiKey;
}

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/**
 * An onRequest hook that lets a request through only with the key, in the `x-functions-key`
 * header or the `code` query parameter. Both sides are hashed first, so that the comparison
 * takes the same time whatever the length and content of the key sent.
 */
export function requireApiKey(apiKey: string) {
  const expected = digest(apiKey);
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers[API_KEY_HEADER];
    const code = (request.query as Record<string, unknown> | undefined)?.code;
    const given = typeof header === "string" ? header : typeof code === "string" ? code : undefined;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new HttpError(
        401,
        "UNAUTHORIZED",
        `This API needs its key, in the ${API_KEY_HEADER} header or the code query parameter.`,
      );
    }
  };
}
