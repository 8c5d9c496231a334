/**
 * The API as a user reaches it: over HTTP with a key, answers in the native envelope. Nothing
 * here touches the database.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

export const DEFAULT_API_URL = "http://127.0.0.1:3000";

/** One item the API refused, by its index in the request (a batch's `requests`). */
export interface ItemError {
  index: number;
  message: string;
  code?: string;
  /** The line of the user's file it came from, when the CLI knows it. */
  line?: number;
}

/** An answer in the error envelope `{"error":{"code","message","type"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Per-item errors the envelope listed (a batch's rejected items). */
    readonly items: ItemError[] = [],
  ) {
    super(message);
  }
}

/** No answer at all: refused, reset, DNS. Says which URL was tried. */
export class ApiUnreachable extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the API at ${url} (${reason}); set RIPEN_API_URL or pass --api-url.`);
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (error.message === "fetch failed" && cause) return describeError(cause);
  if (error.message) return error.message;
  const nested = (error as { errors?: unknown }).errors;
  return Array.isArray(nested) ? nested.map(describeError).join("; ") : error.name;
}

/** Reads a per-item list wherever the envelope puts it (`errors`, `items`, `details`, `rejected`). */
export function itemErrorsOf(source: unknown): ItemError[] {
  if (!isObject(source)) return [];
  for (const key of ["errors", "items", "details", "rejected"]) {
    const list = source[key];
    if (!Array.isArray(list)) continue;
    return list.filter(isObject).map((item, i) => ({
      index: typeof item.index === "number" ? item.index : i,
      message: `${typeof item.field === "string" && item.field ? `${item.field}: ` : ""}${String(
        item.message ?? item.error ?? JSON.stringify(item),
      )}`,
      ...(typeof item.code === "string" ? { code: item.code } : {}),
    }));
  }
  return [];
}

function apiErrorOf(status: number, body: unknown, text: string): ApiError {
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  if (error) {
    return new ApiError(
      status,
      String(error.code ?? `http_${status}`),
      String(error.message ?? "(no message)"),
      [...itemErrorsOf(error), ...(isObject(body) ? itemErrorsOf(body) : [])],
    );
  }
  // Not the envelope (a proxy's page, an empty 502): say what came back.
  const snippet = text.trim().slice(0, 200) || "(empty body)";
  return new ApiError(status, `http_${status}`, `HTTP ${status}: ${snippet}`);
}

export interface ApiClientOptions {
  baseUrl: string;
  key: string;
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly key: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.key = options.key;
    this.fetchImpl = options.fetch ?? fetch;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    try {
      return await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiUnreachable(this.baseUrl, describeError(error));
    }
  }

  /**
   * Sends a JSON request; answers the body, unwrapped from `{code, msg, data}` when the API
   * wraps it. A non-2xx answer throws an ApiError read from the error envelope.
   */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) throw apiErrorOf(response.status, parsed, text);
    if (isObject(parsed) && "data" in parsed && "code" in parsed && "msg" in parsed) {
      return parsed.data as T;
    }
    return parsed as T;
  }

  /** A GET whose body is streamed to the caller, never held whole in memory. */
  async stream(path: string): Promise<Readable> {
    const response = await this.send("GET", path);
    if (!response.ok) {
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw apiErrorOf(response.status, parsed, text);
    }
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }
}
