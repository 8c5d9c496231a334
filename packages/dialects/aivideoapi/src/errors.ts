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

const domainToWire: Record<string, WireErrorCode> = {
  invalid_request: "invalid_request",
  unauthenticated: "invalid_api_key",
  insufficient_credits: "insufficient_credits",
  model_not_found: "model_not_found",
  task_not_found: "task_not_found",
};

/** Maps any thrown value to the dialect's status and envelope; unknown errors become a 500. */
export function toWireError(error: unknown): {
  status: number;
  body: ErrorEnvelope;
  unexpected: boolean;
} {
  let wire: WireError | undefined;
  if (error instanceof WireError) wire = error;
  else if (error instanceof DomainError && domainToWire[error.code]) {
    wire = new WireError(domainToWire[error.code]!, error.message);
  } else if (isBodyParserError(error)) {
    wire = bodyParserWireError(error);
  }
  const unexpected = !wire;
  wire ??= new WireError("internal_error", "An unexpected error occurred. Please try again.");
  return {
    status: wire.status,
    body: {
      error: { code: wire.code, message: wire.message, type: errorReference[wire.code].type },
    },
    unexpected,
  };
}

interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === "object" && error !== null && "type" in error && "status" in error;
}

function bodyParserWireError(error: BodyParserError): WireError {
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
      return new WireError("invalid_request", "Request body could not be read.");
  }
}
