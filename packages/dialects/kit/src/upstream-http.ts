import { type FailureKind, ProviderError } from "@ripen/core";

/** Socket errors raised before a request can have left: trying again cannot pay twice. */
const NOT_SENT_CODES = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"];

/**
 * A fetch that threw: if the request cannot have reached the upstream (nothing listening, no
 * such host), trying again is safe; otherwise (timeout, connection cut) it may have been accepted.
 */
export function kindOfNetworkError(error: unknown): FailureKind {
  const codes: string[] = [];
  for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (codes.length > 5) break;
  }
  return codes.some((code) => NOT_SENT_CODES.includes(code)) ? "retry" : "unknown";
}

/**
 * How an answer without a documented code is handled, by its status alone: 429 and 5xx are
 * passing (retry), our credentials or credit refused open the circuit, other 4xx fail the task.
 */
export function kindOfStatus(status: number): FailureKind {
  if (status === 429 || status >= 500) return "retry";
  if (status === 401 || status === 402 || status === 403) return "circuit";
  return "fail";
}

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Headers, nowMs = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    return seconds > 0 ? Math.ceil(seconds * 1000) : undefined;
  }
  const at = Date.parse(value);
  return Number.isFinite(at) && at > nowMs ? at - nowMs : undefined;
}

export function safeJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** An upstream's answer, read whole: status, headers, body text and its JSON (if it is JSON). */
export interface UpstreamAnswer {
  status: number;
  ok: boolean;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface UpstreamHttpOptions {
  /** The dialect's name, for messages. */
  name: string;
  baseUrl: string;
  /** Authentication and other headers sent on every call. */
  headers: Record<string, string>;
  fetch?: typeof fetch;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export interface UpstreamHttp {
  /**
   * Sends one request and reads the whole answer. A request that may have reached the upstream
   * but got no readable answer throws ProviderError `unknown`; one that cannot have left, `retry`.
   */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; query?: Record<string, string> },
  ): Promise<UpstreamAnswer>;
}

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const fetchImpl = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    async call(method, path, { body, query } = {}) {
      const search = query ? `?${new URLSearchParams(query)}` : "";
      let response: Response;
      try {
        response = await fetchImpl(`${base}${path}${search}`, {
          method,
          headers: {
            ...options.headers,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new ProviderError(`${options.name} unreachable: ${(error as Error).message}`, {
          kind: kindOfNetworkError(error),
        });
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        // A 2xx cut off mid-body may still have created the task upstream.
        throw new ProviderError(`${options.name} answer cut off: ${(error as Error).message}`, {
          kind: response.ok ? "unknown" : "retry",
          status: response.status,
        });
      }
      return {
        status: response.status,
        ok: response.ok,
        headers: response.headers,
        text,
        json: safeJson(text),
      };
    },
  };
}
