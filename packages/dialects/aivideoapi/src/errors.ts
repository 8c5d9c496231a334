import { DomainError } from "@ripen/core";
import type { ErrorEnvelope } from "./schemas";

/** The documented error reference: code → status and type. */
export const errorReference = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "authentication_error" },
  insufficient_credits: { status: 402, type: "billing_error" },
  ip_not_allowed: { status: 403, type: "permission_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  task_not_found: { status: 404, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "rate_limit_error" },
  spend_limit_exceeded: { status: 429, type: "billing_error" },
  internal_error: { status: 500, type: "api_error" },
  upstream_error: { status: 503, type: "upstream_error" },
  /** Not in the documents, which describe 503 generically: a dependency of ours is down. */
  service_unavailable: { status: 503, type: "api_error" },
} as const;
export type WireErrorCode = keyof typeof errorReference;

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** Overrides the documented status, e.g. 404 for an unknown route. */
    readonly status: number = errorReference[code].status,
  ) {
    super(message);
  }
}

/** A Map, not an object: a code is never looked up through Object.prototype. */
const domainToWire = new Map<string, WireErrorCode>([
  ["invalid_request", "invalid_request"],
  ["unauthenticated", "invalid_api_key"],
  ["insufficient_credits", "insufficient_credits"],
  ["model_not_found", "model_not_found"],
  ["task_not_found", "task_not_found"],
  ["service_unavailable", "service_unavailable"],
]);

/** Seconds a client is asked to wait before retrying a 503 service_unavailable. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Maps any thrown value to the dialect's status and envelope; unknown errors become a 500. */
export function toWireError(error: unknown): {
  status: number;
  body: ErrorEnvelope;
  /** Response headers the error calls for, e.g. Retry-After. */
  headers: Record<string, string>;
  unexpected: boolean;
} {
  let wire: WireError | undefined;
  const domainCode = error instanceof DomainError ? domainToWire.get(error.code) : undefined;
  if (error instanceof WireError) wire = error;
  else if (domainCode) wire = new WireError(domainCode, (error as Error).message);
  else if (isClientHttpError(error)) wire = clientHttpWireError(error);
  const unexpected = !wire;
  wire ??= new WireError("internal_error", "An unexpected error occurred. Please try again.");
  return {
    status: wire.status,
    body: {
      error: { code: wire.code, message: wire.message, type: errorReference[wire.code].type },
    },
    headers:
      wire.code === "service_unavailable"
        ? { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS) }
        : {},
    unexpected,
  };
}

/**
 * A 4xx raised while reading the request, before any handler ran: body-parser's errors (with a
 * `type`), a failed gzip/deflate decoding (no `type`), the router's undecodable path (URIError).
 */
interface ClientHttpError {
  status: number;
  type?: unknown;
  limit?: number;
}

function isClientHttpError(error: unknown): error is ClientHttpError {
  if (typeof error !== "object" || error === null) return false;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && status >= 400 && status < 500;
}

function clientHttpWireError(error: ClientHttpError): WireError {
  if (error instanceof URIError) {
    return new WireError("invalid_request", "Request path is not valid percent-encoding.");
  }
  switch (error.type) {
    case "entity.parse.failed":
      return new WireError("invalid_request", "Request body is not valid JSON.");
    case "entity.too.large":
      return new WireError(
        "invalid_request",
        error.limit
          ? `Request body is larger than the ${error.limit} byte limit.`
          : "Request body is too large.",
      );
    case "encoding.unsupported":
    case "charset.unsupported":
      return new WireError("invalid_request", "Request body must be UTF-8 encoded JSON.");
    default:
      // Includes a body that claims gzip or deflate but does not decompress.
      return new WireError("invalid_request", "Request body could not be read.");
  }
}
