import { DomainError, LimitExceeded } from "@ripen/core";
import { describeClientHttpError, isClientHttpError } from "@ripen/dialect-kit";
import type { ErrorEnvelope } from "./schemas";

/**
 * Document 003, "Error Codes": each code is both the HTTP status and the envelope's `code`.
 * Kie servers may also answer HTTP 200 with one of these codes in the body (see the router's
 * `errorsAsHttp200`); clients read the body's code first.
 */
export const errorReference = {
  400: "Invalid request parameters",
  401: "Authentication failed or API key is invalid",
  402: "Insufficient credits",
  404: "Task not found",
  409: "Active task limit exceeded or request conflict",
  422: "Parameter validation failed",
  429: "Request rate limit exceeded",
  500: "Internal server error",
} as const;
export type WireErrorCode = keyof typeof errorReference;

export const wireErrorCodes = Object.keys(errorReference).map(Number) as WireErrorCode[];

export const isWireErrorCode = (code: number): code is WireErrorCode =>
  Object.hasOwn(errorReference, code);

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string = errorReference[code],
    /** Response headers the error calls for, e.g. Retry-After on 409 and 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Seconds a client is asked to wait when our own database is away (answered as a 500). */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Core domain errors in the document's codes. A Map, not an object: a code is never looked up
 * through Object.prototype. Field validation is 422 ("Parameter validation failed"); 400 is kept
 * for a request that cannot be read at all. An unknown model is 404, the document's only
 * "not found", so a client can tell it from bad input. The document has no 503: a Ripen front
 * door whose database is away answers 500 with Retry-After. Only errors listed here keep their
 * meaning; any other domain error is an unexpected 500.
 */
const domainToWire = new Map<string, WireErrorCode>([
  ["invalid_request", 422],
  ["unauthenticated", 401],
  ["insufficient_credits", 402],
  ["model_not_found", 404],
  ["task_not_found", 404],
  ["service_unavailable", 500],
  // Ripen's: an Idempotency-Key reused with another request, the table's "request conflict".
  ["idempotency_key_reused", 409],
  ["active_task_limit_exceeded", 409],
  ["rate_limit_exceeded", 429],
  ["spend_limit_exceeded", 429],
  ["capacity_exceeded", 429],
  // The table has no 403: a key refused for what it is (expired, out of scope, off its
  // allowlist, its account disabled, no subscription) is its authentication failure.
  ["key_expired", 401],
  ["insufficient_scope", 401],
  ["ip_not_allowed", 401],
  ["account_disabled", 401],
  ["subscription_required", 401],
]);

/** Retry-After for a limit that says when a retry can succeed. */
function retryAfterOf(error: DomainError): Record<string, string> {
  return error instanceof LimitExceeded && error.retryAfterSeconds !== undefined
    ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) }
    : {};
}

/** Maps any thrown value to the dialect's code and envelope; unknown errors become a 500. */
export function toWireError(error: unknown): {
  code: WireErrorCode;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  let wire: WireError | undefined;
  const domainCode = error instanceof DomainError ? domainToWire.get(error.code) : undefined;
  if (error instanceof WireError) wire = error;
  else if (domainCode !== undefined) {
    wire = new WireError(
      domainCode,
      (error as Error).message,
      (error as DomainError).code === "service_unavailable"
        ? { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS) }
        : retryAfterOf(error as DomainError),
    );
  } else if (isClientHttpError(error)) wire = new WireError(400, describeClientHttpError(error));
  const unexpected = !wire;
  wire ??= new WireError(500, "Internal server error, please try again later.");
  return {
    code: wire.code,
    body: { code: wire.code, msg: wire.message, data: null },
    headers: wire.headers,
    unexpected,
  };
}
