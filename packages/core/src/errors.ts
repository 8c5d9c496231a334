import type { FailureKind } from "@ripen/db";

/**
 * Domain errors. Each dialect maps `code` to its own envelope and status; nothing here knows HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidRequest extends DomainError {
  readonly code = "invalid_request";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class Unauthenticated extends DomainError {
  readonly code = "unauthenticated";
}

export class ModelNotFound extends DomainError {
  readonly code = "model_not_found";
  constructor(readonly model: string) {
    super(`Model '${model}' does not exist or is inactive.`);
  }
}

export class TaskNotFound extends DomainError {
  readonly code = "task_not_found";
  constructor(readonly taskId: string) {
    super(`Task '${taskId}' does not exist.`);
  }
}

export class AccountNotFound extends DomainError {
  readonly code = "account_not_found";
  constructor(readonly accountId: string) {
    super(`Account '${accountId}' does not exist.`);
  }
}

export class InsufficientCredits extends DomainError {
  readonly code = "insufficient_credits";
  constructor(
    readonly required: number,
    readonly available: number,
  ) {
    super(
      `Your credit balance is too low (${available} available, ${required} required). Please top up.`,
    );
  }
}

/**
 * The caller is known but may not do this (HTTP's 403): its key expired, lacks a scope, is used
 * from an address off its allowlist, its account is disabled, or the model needs a subscription.
 * Doors whose documents have no 403 answer with their authentication error.
 */
export abstract class Forbidden extends DomainError {}

export class AccountDisabled extends Forbidden {
  readonly code = "account_disabled";
  constructor() {
    super("This account is disabled; its API keys are refused. Contact the operator.");
  }
}

export class KeyExpired extends Forbidden {
  readonly code = "key_expired";
  constructor(readonly expiredAt: Date) {
    super(`This API key expired at ${expiredAt.toISOString()}.`);
  }
}

export class InsufficientScope extends Forbidden {
  readonly code = "insufficient_scope";
  constructor(readonly required: string) {
    super(`This API key lacks the '${required}' scope this request needs.`);
  }
}

export class IpNotAllowed extends Forbidden {
  readonly code = "ip_not_allowed";
  constructor(readonly ip: string) {
    super(`Request IP ${ip} is not in this API key's allowlist.`);
  }
}

export class SubscriptionRequired extends Forbidden {
  readonly code = "subscription_required";
  constructor(readonly model: string) {
    super(`Model '${model}' requires an active subscription.`);
  }
}

/**
 * A limit on the caller was reached (HTTP's 429); `retryAfterSeconds`, when known, is when a retry
 * can succeed.
 */
export abstract class LimitExceeded extends DomainError {
  abstract readonly retryAfterSeconds: number | undefined;
}

/** A key's requests per minute. */
export class RateLimitExceeded extends LimitExceeded {
  readonly code = "rate_limit_exceeded";
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `Too many requests: this API key may send ${limit} per minute. Retry in ${retryAfterSeconds} s.`,
    );
  }
}

/** A key's credits committed per hour, per day or in all. */
export class SpendLimitExceeded extends LimitExceeded {
  readonly code = "spend_limit_exceeded";
  constructor(
    readonly period: "hour" | "day" | "total",
    readonly limit: number,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(
      period === "total"
        ? `This API key has reached its total spend limit of ${limit} credits.`
        : `This API key has reached its spend limit of ${limit} credits per ${period}.`,
    );
  }
}

/** An account's interactive tasks not yet ended (kie's 409 "Active task limit exceeded"). */
export class ActiveTaskLimitExceeded extends LimitExceeded {
  readonly code = "active_task_limit_exceeded";
  readonly retryAfterSeconds = undefined;
  constructor(readonly limit: number) {
    super(`Active task limit exceeded: this account may have ${limit} tasks running at once.`);
  }
}

/**
 * No provider that serves the model can start the task before its deadline: refused at once
 * rather than accepted to expire. `retryAfterSeconds` is when one due as far ahead would fit.
 */
export class CapacityExceeded extends LimitExceeded {
  readonly code = "capacity_exceeded";
  constructor(
    readonly model: string,
    readonly providers: readonly string[],
    readonly startInSeconds: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `No provider can start ${model} before this task's deadline: the earliest start is in about ${startInSeconds} s (${providers.join(", ")} at their limits). Retry in ${retryAfterSeconds} s, or give the task a longer timeout.`,
    );
  }
}

/** The request contradicts the current state of what it names (HTTP's 409). */
export abstract class Conflict extends DomainError {}

/** A cancel of a task that has already ended (succeeded, failed, canceled or expired). */
export class TaskAlreadyEnded extends Conflict {
  readonly code = "task_already_ended";
  constructor(
    readonly taskId: string,
    readonly status: string,
  ) {
    super(
      `Task '${taskId}' has already ended (${status}); only a task that has not ended can be canceled.`,
    );
  }
}

/** An `Idempotency-Key` already used, within its lifetime, for a different request. */
export class IdempotencyKeyReused extends Conflict {
  readonly code = "idempotency_key_reused";
  constructor(readonly key: string) {
    super(
      `The Idempotency-Key '${key}' was already used with a different request (endpoint or body) in the last 24 hours. Use a new key for a new request.`,
    );
  }
}

/** A task that has no client callback delivery (it was created without a `callback_url`). */
export class DeliveryNotFound extends DomainError {
  readonly code = "delivery_not_found";
  constructor(readonly taskId: string) {
    super(`Task '${taskId}' has no callback delivery (it was created without a callback_url).`);
  }
}

/** A redelivery asked for while the task's delivery is still being tried on its schedule. */
export class DeliveryPending extends Conflict {
  readonly code = "delivery_pending";
  constructor(
    readonly deliveryId: string,
    readonly nextTryAt: Date | null,
  ) {
    super(
      `Delivery '${deliveryId}' is still pending${nextTryAt ? ` (next try at ${nextTryAt.toISOString()})` : ""}; it can be redelivered once it has succeeded, failed or been refused.`,
    );
  }
}

/**
 * An upstream provider call failed. `kind` steers the worker: retry later (after `retryAfterMs`
 * when the provider asked), fail over, fail the task, open the circuit (our key or account is the
 * problem), or unknown (the request may have been accepted: never resubmit it blindly).
 */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    message: string,
    readonly options: {
      kind: FailureKind;
      status?: number;
      code?: string;
      /** Milliseconds the provider asked us to wait (Retry-After), if any. */
      retryAfterMs?: number;
    },
  ) {
    super(message);
  }
  get kind(): FailureKind {
    return this.options.kind;
  }
}

/** A dependency (Postgres) cannot be reached right now; the request may succeed if retried. */
export class ServiceUnavailable extends DomainError {
  readonly code = "service_unavailable";
}

/** An attempt to move a task along a transition the state machine does not allow. */
export class IllegalTransition extends DomainError {
  readonly code = "illegal_transition";
  constructor(
    readonly from: readonly string[],
    readonly to: string,
  ) {
    super(`A task cannot move from ${from.join("|")} to ${to}.`);
  }
}

/** Socket errors that mean the database server cannot be reached or dropped the connection. */
const unreachableCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is going away or not taking us: admin_shutdown, crash_shutdown,
 * cannot_connect_now, too_many_connections (class 08, connection exceptions, is checked apart).
 */
const unavailableSqlStates = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * What node-postgres and its pool say when a connection dies or cannot be had in time, and what
 * Postgres says for a database with ALLOW_CONNECTIONS false (SQLSTATE 55000, which otherwise
 * means a query-level problem, so only this message counts).
 */
const unavailableMessages =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|is not currently accepting connections/i;

/**
 * Whether `error` means "the database is unavailable right now" (down, restarting, refusing
 * connections, connection lost), as opposed to a bug or a bad query. Follows `cause` (drizzle wraps
 * driver errors) and AggregateError's `errors` (a refused connection to each resolved address).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === "string") {
    if (unreachableCodes.has(code) || unavailableSqlStates.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === "string" && unavailableMessages.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable(cause, depth + 1);
}
