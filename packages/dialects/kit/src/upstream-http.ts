import { type FailureKind, ProviderError } from "@ripen/core";
import { Agent, request } from "undici";

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
  /**
   * Replaces the built-in client (tests inject one). By default calls go through undici's
   * `request` on the process's keep-alive agent (`upstreamAgent`), not `fetch`.
   */
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

/**
 * One pool of keep-alive connections per process, shared by every provider: a worker's calls
 * reuse their connections instead of dialing per call. It is not capped, since the worker's
 * concurrency already bounds the calls in flight (and so the connections); idle ones are kept
 * 30 s, so the gaps between bursts do not reopen them. Not pipelined: submits are POSTs, which
 * undici never pipelines, and a slow upstream answer would hold the calls queued behind it.
 */
let sharedAgent: Agent | undefined;
export function upstreamAgent(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
  return sharedAgent;
}

type Send = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
) => Promise<{ status: number; headers: Headers; text: () => Promise<string> }>;

/**
 * undici's `request`: about half the CPU of `fetch` per call (no WHATWG streams, and the
 * timeouts are the connection's own rather than an AbortSignal timer per call). The answer's
 * headers are only turned into `Headers` here, once.
 */
const sendWithUndici: Send = async (url, init, timeoutMs) => {
  const answer = await request(url, {
    ...init,
    dispatcher: upstreamAgent(),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return { status: answer.statusCode, headers, text: () => answer.body.text() };
};

const sendWithFetch =
  (fetchImpl: typeof fetch): Send =>
  async (url, init, timeoutMs) => {
    const response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, headers: response.headers, text: () => response.text() };
  };

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const send = options.fetch ? sendWithFetch(options.fetch) : sendWithUndici;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    async call(method, path, { body, query } = {}) {
      const search = query ? `?${new URLSearchParams(query)}` : "";
      let response: Awaited<ReturnType<Send>>;
      try {
        response = await send(
          `${base}${path}${search}`,
          {
            method,
            headers: {
              ...options.headers,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          },
          timeoutMs,
        );
      } catch (error) {
        throw new ProviderError(`${options.name} unreachable: ${(error as Error).message}`, {
          kind: kindOfNetworkError(error),
        });
      }
      const ok = response.status >= 200 && response.status < 300;
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        // A 2xx cut off mid-body may still have created the task upstream.
        throw new ProviderError(`${options.name} answer cut off: ${(error as Error).message}`, {
          kind: ok ? "unknown" : "retry",
          status: response.status,
        });
      }
      return {
        status: response.status,
        ok,
        headers: response.headers,
        text,
        json: safeJson(text),
      };
    },
  };
}
