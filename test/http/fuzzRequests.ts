/**
 * Random HTTP requests for the fuzz test: methods, paths under the management API (and a
 * few outside it), query strings, headers and bodies, from a seeded generator so that a
 * failure can be replayed. Requests that could change an instance (anything but GET, HEAD
 * and OPTIONS) never name a protected instance, and purges by filter only ever reach
 * instances created after `purgeFloor`: the fuzzer may start instances of its own, but the
 * protected ones must come out exactly as they went in.
 */

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ["GET", "GET", "GET", "POST", "POST", "POST", "DELETE", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"];
const READ_ONLY = new Set(["GET", "HEAD", "OPTIONS"]);
const OPERATIONS = ["terminate", "suspend", "resume", "rewind", "restart", "raiseEvent", "Terminate", "purge", "", "x"];
const PARAMS = [
  "showHistory",
  "showHistoryOutput",
  "showInput",
  "returnInternalServerErrorOnFailure",
  "top",
  "createdTimeFrom",
  "createdTimeTo",
  "runtimeStatus",
  "instanceIdPrefix",
  "name",
  "timeout",
  "pollingInterval",
  "reason",
  "restartWithNewInstanceId",
  "code",
  "taskHub",
  "connection",
  "version",
];
const VALUES = [
  "true",
  "false",
  "True",
  "FALSE",
  "",
  "-1",
  "0",
  "1",
  "3",
  "1.5",
  "1e309",
  "NaN",
  "abc",
  "%ZZ",
  "%00",
  "%E2%82",
  "2030-01-01T00:00:00Z",
  "2000-02-30",
  "yesterday",
  "Running,Pending",
  "Completed",
  "Canceled",
  "Running,,Bogus",
  "prot-",
  "%F0%9F%92%A5",
  "a%26b%3Dc",
  "0.01",
  "3601",
];
const CONTENT_TYPES = [
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/octet-stream",
  "application/json;;;",
  "a/b/c",
  "",
];
const NAMES = ["echo", "approval", "fails", "nope", "Echo", "", "%20", "a%2Fb", "..", "constructor", "__proto__"];

/** Generates requests for a server whose protected instance ids all start with `protectedPrefix`. */
export function fuzzRequests(options: {
  random: () => number;
  prefix: string;
  protectedIds: readonly string[];
  protectedPrefix: string;
  purgeFloor: Date;
}) {
  const { random, prefix, protectedIds, protectedPrefix } = options;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;
  const int = (max: number) => Math.floor(random() * max);

  /** Printable ASCII without space, '/', '?' or '#', percent-encoding the rest. */
  const junk = (length: number): string => {
    let text = "";
    for (let i = 0; i < length; i++) {
      const code = chance(0.8) ? 33 + int(94) : int(256);
      const ch = String.fromCharCode(code);
      text += code > 32 && code < 127 && !"/?#%".includes(ch) ? ch : `%${code.toString(16).padStart(2, "0")}`;
    }
    return text;
  };
  const decoded = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  /** An id that, decoded as the server will decode it, never names a protected instance. */
  const freshId = (): string => {
    const id = chance(0.5) ? `fz-${int(50)}` : junk(1 + int(chance(0.05) ? 400 : 20));
    return decoded(id).startsWith(protectedPrefix) ? `z${id}` : id;
  };
  const instanceId = (readOnly: boolean): string => (readOnly && chance(0.5) ? pick(protectedIds) : freshId());

  const path = (method: string): string => {
    const readOnly = READ_ONLY.has(method);
    const id = instanceId(readOnly);
    switch (int(12)) {
      case 0:
        return `${prefix}/instances`;
      case 1:
        return `${prefix}/instances/`;
      case 2:
      case 3:
        return `${prefix}/instances/${id}`;
      case 4:
      case 5:
        return `${prefix}/instances/${id}/${pick(OPERATIONS)}`;
      case 6:
        return `${prefix}/instances/${id}/raiseEvent/${chance(0.8) ? junk(1 + int(10)) : ""}`;
      case 7:
        return `${prefix}/orchestrators/${pick(NAMES)}`;
      case 8:
        return `${prefix}/orchestrators/${pick(NAMES)}/${freshId()}`;
      case 9:
        return `${prefix}/${junk(int(30))}/${junk(int(5))}`;
      case 10:
        return pick([
          "/",
          "/healthz",
          "/dashboard/app.js",
          "/dashboard/..%2Fplugin.ts",
          `/${junk(10)}`,
          "//",
          "/a/../b",
        ]);
      default:
        return `${prefix}/instances/${id}/${junk(int(8))}/${junk(int(8))}`;
    }
  };

  const query = (method: string, path: string): string => {
    if (chance(0.3)) return "";
    const pairs: string[] = [];
    for (let i = 1 + int(5); i > 0; i--) {
      const key = chance(0.85) ? pick(PARAMS) : junk(1 + int(6));
      let value = chance(0.8) ? pick(VALUES) : junk(int(40));
      // Waiting starts are bounded so the run stays short: at most 0.01 s when valid.
      if (key === "timeout" && !["-1", "abc", "3601", "", "NaN", "%ZZ"].includes(value)) value = "0.01";
      pairs.push(`${key}=${value}`);
    }
    // A purge by filter from any time would reach protected instances: keep its floor at or after the fuzz began.
    if (method === "DELETE" && /\/instances\/?$/.test(path)) {
      const filtered = pairs.filter((p) => !p.startsWith("createdTimeFrom="));
      if (chance(0.5)) filtered.push(`createdTimeFrom=${options.purgeFloor.toISOString()}`);
      return `?${filtered.join("&")}`;
    }
    return `?${pairs.join("&")}`;
  };

  const body = (): Buffer | undefined => {
    switch (int(8)) {
      case 0:
        return undefined;
      case 1:
        return Buffer.from(Array.from({ length: int(2000) }, () => int(256)));
      case 2:
        return Buffer.from(JSON.stringify(randomJson(4)));
      case 3:
        return Buffer.from(JSON.stringify(randomJson(2)).slice(0, -1 - int(3)));
      case 4:
        return chance(0.3)
          ? Buffer.alloc(1024 * 1024 + 1 + int(1024 * 1024), 0x61)
          : Buffer.from(`"${"x".repeat(5000)}"`);
      case 5:
        return Buffer.from(`${"[".repeat(2000)}${"]".repeat(2000)}`);
      case 6:
        return Buffer.from(pick(['{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "1e400", "null", '""']));
      default:
        return Buffer.alloc(0);
    }
  };

  const randomJson = (depth: number): unknown => {
    switch (depth <= 0 ? int(4) : int(6)) {
      case 0:
        return junk(int(20));
      case 1:
        return random() * 1e6 - 5e5;
      case 2:
        return chance(0.5);
      case 3:
        return null;
      case 4:
        return Array.from({ length: int(5) }, () => randomJson(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: int(5) }, () => [junk(1 + int(6)), randomJson(depth - 1)]));
    }
  };

  return (): FuzzRequest => {
    const method = pick(METHODS);
    const p = path(method);
    const headers: Record<string, string> = {};
    const payload = method === "GET" || method === "HEAD" ? undefined : body();
    const type = pick(CONTENT_TYPES);
    if (payload !== undefined && type !== "") headers["content-type"] = type;
    if (chance(0.1))
      headers["x-ms-continuation-token"] = chance(0.5)
        ? junk(int(60))
        : Buffer.from(JSON.stringify([int(1e13), junk(5)])).toString("base64url");
    if (chance(0.05)) headers["x-functions-key"] = junk(int(40));
    return { method, path: `${p}${query(method, p)}`, headers, ...(payload === undefined ? {} : { body: payload }) };
  };
}
