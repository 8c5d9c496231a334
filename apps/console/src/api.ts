// One way the console talks to Ripen: the JSON API with the signed-in credential, errors as
// ApiError with the envelope's message, and live streams read with fetch (EventSource cannot
// send the Authorization header).

/** A request Ripen refused (or could not answer): its HTTP status (0: unreachable), code, message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Credential {
  kind: "client" | "operator";
  token: string;
}

/** What a 401 does wherever it happens: the shell signs out and says why. */
let onUnauthorized: (message: string) => void = () => {};
export function whenUnauthorized(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

/** The message an error envelope carries, whichever door's shape it has. */
function messageOf(body: unknown, status: number): { message: string; code?: string } {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const error = b.error as Record<string, unknown> | undefined;
    const message = error?.message ?? b.msg ?? b.message;
    const code = error?.code ?? b.code;
    if (typeof message === "string") {
      return { message, code: typeof code === "string" ? code : undefined };
    }
  }
  if (status === 503)
    return { message: "Ripen is unavailable right now (its database or Redis is down)." };
  return { message: `Request failed (${status}).` };
}

export interface ApiRequest {
  credential: Credential;
  /** Defaults to GET, or POST when there is a body. */
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
}

/** One JSON request with the signed-in credential: the envelope's data, or an ApiError. */
export async function apiFetch<T = unknown>(path: string, options: ApiRequest): Promise<T> {
  const { credential } = options;
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers: {
        authorization: `Bearer ${credential.token}`,
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(
      0,
      undefined,
      "Ripen cannot be reached. Check the connection and try again.",
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const { message, code } = messageOf(body, res.status);
    if (res.status === 401) onUnauthorized(message);
    throw new ApiError(res.status, code, message);
  }
  // The native envelope ({code, msg, data}) is unwrapped; other answers are returned whole.
  if (body && typeof body === "object" && "data" in body && "code" in body) {
    return (body as { data: T }).data;
  }
  return body as T;
}

/**
 * Reads a server-sent event stream until it ends or `signal` aborts, calling `onEvent` with
 * each event's name and parsed data.
 */
export async function readSse(
  path: string,
  credential: Credential,
  onEvent: (event: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${credential.token}`, accept: "text/event-stream" },
    signal,
  });
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {}
    const { message, code } = messageOf(body, res.status);
    if (res.status === 401) onUnauthorized(message);
    throw new ApiError(res.status, code, message);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) {
        try {
          onEvent(event, JSON.parse(data.join("\n")));
        } catch {
          onEvent(event, data.join("\n"));
        }
      }
      end = buffer.indexOf("\n\n");
    }
  }
}

/** Unix seconds (Ripen's wire times) as a local date and time. */
export const when = (seconds: number | null | undefined): string =>
  seconds ? new Date(seconds * 1000).toLocaleString() : "—";
