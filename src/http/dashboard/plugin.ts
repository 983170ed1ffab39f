import { readdirSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * The dashboard: one HTML page and its plain ES modules and CSS (no framework, no build
 * step), read from ./assets once when the plugin is registered. The page holds no data: it
 * reads everything from the management API beside it, passing on the `?code=` it was opened
 * with, so these routes need no API key themselves.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Scripts, styles and API calls from this origin only, no inline script: even if some text
 * were ever inserted as HTML, it could not run. No framing; no Referer (the URL may hold the key).
 */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

interface Asset {
  body: Buffer;
  type: string;
}

const ASSETS_DIR = new URL("./assets/", import.meta.url);

function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(ASSETS_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(new URL(name, ASSETS_DIR)), type });
  }
  return assets;
}

function send(reply: FastifyReply, asset: Asset): FastifyReply {
  return reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body);
}

/** Serves the dashboard: `GET /` (the page) and `GET /dashboard/<file>` (its scripts, styles, icon). */
export async function dashboardPlugin(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();
  const page = assets.get("index.html");
  if (!page) throw new Error(`dashboard assets are missing from ${ASSETS_DIR.pathname}`);
  app.get("/", (_request, reply) => send(reply, page));
  app.get<{ Params: { file: string } }>("/dashboard/:file", (request, reply) => {
    const asset = request.params.file === "index.html" ? undefined : assets.get(request.params.file);
    if (!asset) {
      return reply
        .code(404)
        .type("application/json; charset=utf-8")
        .send(JSON.stringify({ error: { code: "NOT_FOUND", message: "No such dashboard file." } }));
    }
    return send(reply, asset);
  });
}
