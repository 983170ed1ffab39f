/** One HTTP exchange, with the body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when the body is empty. */
  json: unknown;
  text: string;
}

/** Sends a request with fetch; a string or object body is sent as JSON unless a content type is given. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | Blob | undefined;
  // Raw bytes go as a Blob without a type: fetch then sends no content type.
  if (init.body instanceof Uint8Array) body = new Blob([new Uint8Array(init.body)]);
  else if (init.body !== undefined) {
    body = typeof init.body === "string" && headers["content-type"] ? init.body : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, { method: init.method ?? "GET", headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let json: unknown;
  if (text !== "" && (response.headers.get("content-type") ?? "").startsWith("application/json"))
    json = JSON.parse(text);
  return { status: response.status, headers: response.headers, json, text };
}

/** The `{ error: { code } }` of an error answer. */
export function errorCode(answer: Answer): string | undefined {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}
