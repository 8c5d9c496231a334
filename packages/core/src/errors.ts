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

/** An upstream provider answered with an error. `retryable` steers the worker. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    message: string,
    readonly options: {
      retryable: boolean;
      status?: number;
      code?: string;
      /** Milliseconds the provider asked us to wait (Retry-After), if any. */
      retryAfterMs?: number;
    },
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.options.retryable;
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
