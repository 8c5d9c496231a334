import { DomainError, InvalidRequest } from "@ripen/core";
import { describeClientHttpError, isClientHttpError } from "@ripen/dialect-kit";
import type { ErrorEnvelope } from "./schemas";

/** Document 001, "Error Codes": code → HTTP status and its description. */
export const errorReference = {
  UNAUTHORIZED: { status: 401, message: "Missing or invalid API key" },
  INSUFFICIENT_CREDITS: { status: 402, message: "Not enough credits for this operation" },
  FORBIDDEN: { status: 403, message: "API key disabled, expired, or lacks required scope" },
  RATE_LIMIT_EXCEEDED: { status: 429, message: "Too many requests per minute" },
  INVALID_PROMPT: { status: 400, message: "Prompt is empty or invalid" },
  INVALID_MODEL: { status: 400, message: "Unknown model ID" },
  TASK_NOT_FOUND: { status: 404, message: "Generation task does not exist" },
  CONTENT_FILTERED: { status: 451, message: "Content was rejected by safety filters" },
  INTERNAL_ERROR: { status: 500, message: "Server error, please retry" },
  /**
   * Not in the document, whose 400 codes are only for the prompt and the model: any other bad
   * input (a field the model does not take, a value out of range, unreadable JSON).
   */
  INVALID_REQUEST: { status: 400, message: "The request is invalid" },
  /** Not in the document: a path that is not one of its endpoints. */
  NOT_FOUND: { status: 404, message: "No such endpoint" },
  /** Not in the document: Ripen's database cannot be reached right now (nothing was done). */
  SERVICE_UNAVAILABLE: { status: 503, message: "Service temporarily unavailable, please retry" },
  /**
   * Not in the document: an `Idempotency-Key` sent again with another request within its window
   * (Ripen's; as Stripe's, 409).
   */
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    message: "This Idempotency-Key was used with another request",
  },
} as const;
export type WireErrorCode = keyof typeof errorReference;

export class WireError extends Error {
  constructor(
    readonly code: WireErrorCode,
    message: string = errorReference[code].message,
    /** Overrides the documented status. */
    readonly status: number = errorReference[code].status,
    /** Response headers the error calls for, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A 429 RATE_LIMIT_EXCEEDED asking the caller to wait `retryAfterSeconds`. */
export function rateLimited(retryAfterSeconds: number, message?: string): WireError {
  const seconds = Number.isFinite(retryAfterSeconds)
    ? Math.max(1, Math.ceil(retryAfterSeconds))
    : 60;
  return new WireError(
    "RATE_LIMIT_EXCEEDED",
    message ?? `Rate limit exceeded. Retry in ${seconds} seconds.`,
    429,
    { "retry-after": String(seconds) },
  );
}

/** Seconds a client is asked to wait before retrying a 503 SERVICE_UNAVAILABLE. */
export const SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The code of a core DomainError, or undefined for one the dialect has no word for. */
function codeOfDomainError(error: DomainError): WireErrorCode | undefined {
  switch (error.code) {
    case "invalid_request": {
      // The prompt has a documented code of its own; an unknown model is a ModelNotFound (or the
      // router's own INVALID_MODEL), so a field merely named `model` is not one.
      const field = error instanceof InvalidRequest ? error.field : undefined;
      return field === "prompt" ? "INVALID_PROMPT" : "INVALID_REQUEST";
    }
    case "unauthenticated":
      return "UNAUTHORIZED";
    case "insufficient_credits":
      return "INSUFFICIENT_CREDITS";
    case "model_not_found":
      return "INVALID_MODEL";
    case "task_not_found":
      return "TASK_NOT_FOUND";
    case "service_unavailable":
      return "SERVICE_UNAVAILABLE";
    // Limits on the caller: a key's rate or spend, or no provider able to start before the
    // deadline. The document's only 429 is RATE_LIMIT_EXCEEDED.
    case "rate_limit_exceeded":
    case "spend_limit_exceeded":
    case "active_task_limit_exceeded":
    case "capacity_exceeded":
      return "RATE_LIMIT_EXCEEDED";
    // A key refused for what it is rather than who it is (disabled, expired, out of scope, an
    // address off its allowlist): the document's 403.
    case "forbidden":
    case "key_disabled":
    case "key_expired":
    case "insufficient_scope":
    case "ip_not_allowed":
    case "account_disabled":
    case "subscription_required":
      return "FORBIDDEN";
    case "content_filtered":
      return "CONTENT_FILTERED";
    case "idempotency_key_reused":
      return "IDEMPOTENCY_KEY_REUSED";
    default:
      return undefined;
  }
}

/** Retry-After for a 503, or for an error that says how long to wait (`retryAfterSeconds`). */
function retryAfterOf(code: WireErrorCode, error: DomainError): Record<string, string> {
  if (code === "SERVICE_UNAVAILABLE") {
    return { "retry-after": String(SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS) };
  }
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return code === "RATE_LIMIT_EXCEEDED" && typeof seconds === "number" && Number.isFinite(seconds)
    ? { "retry-after": String(Math.max(1, Math.ceil(seconds))) }
    : {};
}

/** Maps any thrown value to the dialect's status and envelope; unknown errors become a 500. */
export function toWireError(error: unknown): {
  status: number;
  body: ErrorEnvelope;
  headers: Record<string, string>;
  unexpected: boolean;
} {
  let wire: WireError | undefined;
  if (error instanceof WireError) wire = error;
  else if (error instanceof DomainError) {
    const code = codeOfDomainError(error);
    if (code) wire = new WireError(code, error.message, undefined, retryAfterOf(code, error));
  } else if (isClientHttpError(error)) {
    wire = new WireError("INVALID_REQUEST", describeClientHttpError(error));
  }
  const unexpected = !wire;
  wire ??= new WireError("INTERNAL_ERROR", "An unexpected error occurred. Please retry.");
  return {
    status: wire.status,
    body: { success: false, error: { code: wire.code, message: wire.message } },
    headers: wire.headers,
    unexpected,
  };
}
