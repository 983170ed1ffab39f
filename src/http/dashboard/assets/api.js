// A small client of the Durable Functions management API that the dashboard is served with.

const CONTINUATION = "x-ms-continuation-token";

/** An error answer of the API: HTTP status, the error code and message from its JSON body. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The API lives beside the page (`runtime/webhooks/durabletask/` relative to it), so the
 * dashboard keeps working when the app is mounted under a prefix. The API key the page was
 * opened with (`?code=…`) is passed on to every call.
 */
export function createApi(pageUrl = window.location.href) {
  const page = new URL(pageUrl);
  const base = new URL("runtime/webhooks/durabletask/", page);
  const code = page.searchParams.get("code");

  function url(path, params = {}) {
    const u = new URL(path, base);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") u.searchParams.set(key, String(value));
    }
    if (code) u.searchParams.set("code", code);
    return u;
  }

  async function call(method, u, { body, headers = {} } = {}) {
    const init = { method, headers: { accept: "application/json", ...headers }, cache: "no-store" };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(u, init);
    } catch (error) {
      throw new ApiError(0, "NETWORK", `The server did not answer (${error.message}).`);
    }
    const text = await response.text();
    let json;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!response.ok && !(response.status === 500 && json?.runtimeStatus)) {
      const error = json?.error ?? {};
      throw new ApiError(
        response.status,
        error.code ?? `HTTP_${response.status}`,
        error.message ?? response.statusText,
      );
    }
    return { response, json };
  }

  const instancePath = (id) => `instances/${encodeURIComponent(id)}`;

  return {
    /** One page of instances, and the token of the next page (undefined on the last). */
    async list({ statuses, prefix, name, from, to, top }, token) {
      const params = {
        runtimeStatus: statuses?.length ? statuses.join(",") : undefined,
        instanceIdPrefix: prefix,
        name,
        createdTimeFrom: from,
        createdTimeTo: to,
        top,
        showInput: "false",
      };
      const headers = token ? { [CONTINUATION]: token } : {};
      const { response, json } = await call("GET", url("instances/", params), { headers });
      return { instances: Array.isArray(json) ? json : [], next: response.headers.get(CONTINUATION) || undefined };
    },

    /** An instance with its full history; undefined when it does not exist. */
    async get(id) {
      const params = { showHistory: "true", showHistoryOutput: "true", showInput: "true" };
      try {
        return (await call("GET", url(instancePath(id), params))).json;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },

    terminate: (id, reason) => call("POST", url(`${instancePath(id)}/terminate`, { reason })),
    suspend: (id, reason) => call("POST", url(`${instancePath(id)}/suspend`, { reason })),
    resume: (id, reason) => call("POST", url(`${instancePath(id)}/resume`, { reason })),
    rewind: (id, reason) => call("POST", url(`${instancePath(id)}/rewind`, { reason })),
    /** Restarts; with `newId`, under a new random id. Resolves with the id of the new run. */
    async restart(id, newId) {
      const { json } = await call(
        "POST",
        url(`${instancePath(id)}/restart`, { restartWithNewInstanceId: newId ? "true" : "false" }),
      );
      return json?.id ?? id;
    },
    purge: (id) => call("DELETE", url(instancePath(id))),

    /** One page of entities with state (with their states), and the token of the next page. */
    async listEntities({ name, prefix, top }, token) {
      const path = name ? `entities/${encodeURIComponent(name)}` : "entities/";
      const headers = token ? { [CONTINUATION]: token } : {};
      const params = { keyPrefix: prefix, top, fetchState: "true" };
      const { response, json } = await call("GET", url(path, params), { headers });
      return { entities: Array.isArray(json) ? json : [], next: response.headers.get(CONTINUATION) || undefined };
    },

    /** An entity's state, lock, pending count and recent operations; undefined when nothing is known of it. */
    async getEntity(name, key) {
      const path = `entities/${encodeURIComponent(name)}/${encodeURIComponent(key)}`;
      try {
        return (await call("GET", url(path, { details: "true" }))).json;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    raiseEvent: (id, event, data) =>
      call("POST", url(`${instancePath(id)}/raiseEvent/${encodeURIComponent(event)}`), { body: data }),
  };
}
