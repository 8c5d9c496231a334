import { DomainError, InvalidRequest } from "@ripen/core";
import { describeClientHttpError, isClientHttpError } from "@ripen/dialect-kit";
import type { ErrorEnvelope } from "./schemas";

/**
 * Document 004, "Error Codes": each status code and its description. The code is both the HTTP
 * status and the body's `code`; Kie-like hosts may also answer HTTP 200 with the code in the body.
 */
export const errorReference = {
  400: "Invalid request parameters",
  401: "Authentication failed, please check API Key",
  402: "Insufficient account balance",
  404: "Resource not found",
  422: "Parameter validation failed",
  429: "Request rate limit exceeded",
  500: "Internal server error",
} as const;
export type WireErrorCode = keyof typeof errorReference;

export const wireErrorCodes = Object.keys(errorReference).map(Number) as WireErrorCode[];

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string = errorReference[code],
    /** Response headers the error calls for, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Seconds a client is asked to wait before retrying when our own database is away. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Maps any thrown value to the dialect's code and envelope; unknown errors become a 500.
 *
 * 400 or 422 (the document has both, without saying which is which): a request whose shape is
 * wrong (not JSON, not an object, `model` missing or not a string, an unknown top-level field, a
 * bad `callBackUrl`) is 400 "Invalid request parameters"; a well-formed request whose `input`
 * breaks the model's rules (a missing prompt, an option not offered, too many images) is 422
 * "Parameter validation failed". An unknown model is 404 "Resource not found", as an unknown task
 * is. The document has no 503: our database being away is a 500 with Retry-After. A limit on the
 * caller is 429; an idempotency conflict (no 409 in the table) is 400.
 */
export function toWireError(error: unknown): {
  status: WireErrorCode;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  const wire = wireErrorOf(error);
  const unexpected = !wire;
  const known = wire ?? new WireError(500, "Internal server error. Please try again.");
  return {
    status: known.code,
    body: { code: known.code, msg: known.message, data: null },
    headers: known.headers,
    unexpected,
  };
}

/** Retry-After for an error that says how long to wait (`retryAfterSeconds`), else none. */
function retryAfterOf(error: DomainError): Record<string, string> {
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0
    ? { "retry-after": String(Math.ceil(seconds)) }
    : {};
}

function wireErrorOf(error: unknown): WireError | undefined {
  if (error instanceof WireError) return error;
  if (error instanceof InvalidRequest) {
    const inInput = error.field?.startsWith("input.") ?? false;
    return new WireError(inInput ? 422 : 400, error.message);
  }
  if (error instanceof DomainError) {
    switch (error.code) {
      case "unauthenticated":
        return new WireError(401, error.message);
      case "insufficient_credits":
        return new WireError(402, error.message);
      case "model_not_found":
      case "task_not_found":
        return new WireError(404, error.message);
      // Limits on the caller (a key's rate or spend, no capacity before the deadline): the
      // table's 429.
      case "rate_limit_exceeded":
      case "spend_limit_exceeded":
      case "active_task_limit_exceeded":
      case "capacity_exceeded":
        return new WireError(429, error.message, retryAfterOf(error));
      // The table has no 403: a key refused for what it is (expired, out of scope, off its
      // allowlist, its account disabled, no subscription) is its authentication failure.
      case "key_expired":
      case "insufficient_scope":
      case "ip_not_allowed":
      case "account_disabled":
      case "subscription_required":
        return new WireError(401, error.message);
      // The table has no 409: an Idempotency-Key reused for another request is a bad request.
      case "idempotency_key_reused":
        return new WireError(400, error.message);
      case "service_unavailable":
        return new WireError(500, error.message, {
          "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS),
        });
      default:
        return undefined;
    }
  }
  if (isClientHttpError(error)) return new WireError(400, describeClientHttpError(error));
  return undefined;
}
