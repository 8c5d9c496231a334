import { DomainError, LimitExceeded } from "@ripen/core";
import {
  type ClientHttpError,
  describeClientHttpError,
  isClientHttpError,
} from "@ripen/dialect-kit";
import type { ErrorEnvelope } from "./schemas";

/** The documented error reference: code → status and type. */
export const errorReference = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "authentication_error" },
  insufficient_credits: { status: 402, type: "billing_error" },
  ip_not_allowed: { status: 403, type: "permission_error" },
  /** Ripen's, beside ip_not_allowed: a key refused for what it is rather than who it is. */
  key_expired: { status: 403, type: "permission_error" },
  insufficient_scope: { status: 403, type: "permission_error" },
  account_disabled: { status: 403, type: "permission_error" },
  subscription_required: { status: 403, type: "permission_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  task_not_found: { status: 404, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "rate_limit_error" },
  spend_limit_exceeded: { status: 429, type: "billing_error" },
  /** Ripen's: the account's interactive tasks not yet ended are at its limit. */
  active_task_limit_exceeded: { status: 429, type: "rate_limit_error" },
  /** Ripen's: no provider can start the task before its deadline (admission control). */
  capacity_exceeded: { status: 429, type: "rate_limit_error" },
  internal_error: { status: 500, type: "api_error" },
  upstream_error: { status: 503, type: "upstream_error" },
  /** Not in the documents, which describe 503 generically: a dependency of ours is down. */
  service_unavailable: { status: 503, type: "api_error" },
  /** Ripen's (the documents have no 409): a cancel of a task that has already ended. */
  task_already_ended: { status: 409, type: "invalid_request_error" },
  /** Ripen's: an Idempotency-Key reused with another request within 24 hours (as Stripe's). */
  idempotency_key_reused: { status: 409, type: "idempotency_error" },
  /** Ripen's: a redelivery of a task that has no callback delivery. */
  delivery_not_found: { status: 404, type: "invalid_request_error" },
  /** Ripen's: a redelivery while the task's delivery is still being tried. */
  delivery_pending: { status: 409, type: "invalid_request_error" },
  /** Ripen's: a batch id that does not exist (or is another account's). */
  batch_not_found: { status: 404, type: "invalid_request_error" },
  /** Ripen's: a schedule id that does not exist (deleted, or another account's). */
  schedule_not_found: { status: 404, type: "invalid_request_error" },
} as const;
export type WireErrorCode = keyof typeof errorReference;

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** Overrides the documented status, e.g. 404 for an unknown route. */
    readonly status: number = errorReference[code].status,
    /** Response headers it calls for, e.g. Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
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
  ["task_already_ended", "task_already_ended"],
  ["idempotency_key_reused", "idempotency_key_reused"],
  ["delivery_not_found", "delivery_not_found"],
  ["delivery_pending", "delivery_pending"],
  ["batch_not_found", "batch_not_found"],
  ["schedule_not_found", "schedule_not_found"],
  ["ip_not_allowed", "ip_not_allowed"],
  ["key_expired", "key_expired"],
  ["insufficient_scope", "insufficient_scope"],
  ["account_disabled", "account_disabled"],
  ["subscription_required", "subscription_required"],
  ["rate_limit_exceeded", "rate_limit_exceeded"],
  ["spend_limit_exceeded", "spend_limit_exceeded"],
  ["active_task_limit_exceeded", "active_task_limit_exceeded"],
  ["capacity_exceeded", "capacity_exceeded"],
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
  else if (domainCode) {
    wire = new WireError(
      domainCode,
      (error as Error).message,
      undefined,
      retryAfterOf(error as DomainError),
    );
  } else if (isClientHttpError(error)) wire = clientHttpWireError(error);
  // A batch's refused items, by index (`BatchInvalid`): listed beside code, message and type.
  const itemErrors = domainCode ? (error as { errors?: unknown }).errors : undefined;
  const unexpected = !wire;
  wire ??= new WireError("internal_error", "An unexpected error occurred. Please try again.");
  return {
    status: wire.status,
    body: {
      error: {
        code: wire.code,
        message: wire.message,
        type: errorReference[wire.code].type,
        ...(Array.isArray(itemErrors) ? { errors: itemErrors } : {}),
      },
    },
    headers:
      wire.code === "service_unavailable"
        ? { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS), ...wire.headers }
        : wire.headers,
    unexpected,
  };
}

/** Retry-After for a limit that says when a retry can succeed. */
function retryAfterOf(error: DomainError): Record<string, string> {
  return error instanceof LimitExceeded && error.retryAfterSeconds !== undefined
    ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterSeconds))) }
    : {};
}

function clientHttpWireError(error: ClientHttpError): WireError {
  return new WireError("invalid_request", describeClientHttpError(error));
}
