/** Defined once; feeds the pg enums, the zod schemas and the code. */
export const taskStatuses = [
  "queued",
  "submitting",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "expired",
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export const activeTaskStatuses = [
  "queued",
  "submitting",
  "running",
] as const satisfies readonly TaskStatus[];
export const terminalTaskStatuses = [
  "succeeded",
  "failed",
  "canceled",
  "expired",
] as const satisfies readonly TaskStatus[];
export type ActiveTaskStatus = (typeof activeTaskStatuses)[number];
export type TerminalTaskStatus = (typeof terminalTaskStatuses)[number];

/**
 * The wire formats Ripen speaks, one package each. A provider is an instance of one of them,
 * declared in configuration, so provider ids are plain text in the database.
 */
export const dialectNames = ["aivideoapi", "nanobanana", "kie", "revid"] as const;
export type DialectName = (typeof dialectNames)[number];

/** A configured provider instance's id, e.g. `kie` or a second kie host `kie-eu`. */
export type ProviderId = string;

/**
 * The front doors a task can come through: Ripen's native API and the three seed dialects it
 * serves to clients. A task reads through every door; its callback goes out in its own door's shape.
 */
export const doorNames = ["native", "nanobanana", "kie", "revid"] as const;
export type DoorName = (typeof doorNames)[number];

export const modelKinds = ["image", "video"] as const;
export type ModelKind = (typeof modelKinds)[number];

/**
 * `grant` adds credits, `adjustment` corrects the balance either way (signed amount, with a reason
 * and an actor), `hold` reserves a task's price, `capture` and `release` resolve a hold.
 */
export const ledgerEntryKinds = ["grant", "hold", "capture", "release", "adjustment"] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

/**
 * What became of a provider callback: applied (ended the task), duplicate (its attempt already had
 * this result), late (recorded on an attempt that no longer decides the task), ignored (progress),
 * invalid (unparseable or for another upstream task).
 */
export const callbackOutcomes = ["applied", "duplicate", "late", "ignored", "invalid"] as const;
export type CallbackOutcome = (typeof callbackOutcomes)[number];

/**
 * One upstream submission. `sending`: written before the call, outcome not yet known. `accepted`:
 * the upstream gave its id. `unknown`: the call may have reached the upstream but we never learned
 * the answer (timeout, crash); never resubmitted, its callback can still settle it. `rejected`:
 * the upstream refused it. `lost`: the upstream forgot an accepted task. `succeeded`/`failed`: its
 * result. `superseded`: a later attempt replaced it. `abandoned`: the task ended another way.
 */
export const attemptStates = [
  "sending",
  "accepted",
  "unknown",
  "rejected",
  "lost",
  "succeeded",
  "failed",
  "superseded",
  "abandoned",
] as const;
export type AttemptState = (typeof attemptStates)[number];

/** Attempt states after which the attempt will not produce a result on the task's behalf. */
export const openAttemptStates = [
  "sending",
  "accepted",
  "unknown",
] as const satisfies readonly AttemptState[];

/** Attempt states that are a failure of the upstream: it refused, forgot or failed the work. */
export const failedAttemptStates = [
  "rejected",
  "lost",
  "failed",
] as const satisfies readonly AttemptState[];

/**
 * How an upstream failure is handled: retry the same provider later; fail over to another
 * provider; fail the task and refund; open the provider's circuit (our key or account is the
 * problem: an alert); unknown (the request may have been accepted).
 */
export const failureKinds = ["retry", "failover", "fail", "circuit", "unknown"] as const;
export type FailureKind = (typeof failureKinds)[number];

/**
 * A client webhook: `pending` (a try is due), `succeeded` (a 2xx), `failed` (the schedule ran
 * out), `gone` (the client answered 410: stop).
 */
export const deliveryStates = ["pending", "succeeded", "failed", "gone"] as const;
export type DeliveryState = (typeof deliveryStates)[number];

export const batchStates = ["running", "ended", "canceled"] as const;
export type BatchState = (typeof batchStates)[number];

export const scheduleStates = ["active", "paused"] as const;
export type ScheduleState = (typeof scheduleStates)[number];

/** `created`: its batch was accepted; `failed`: it could not be (see its error). */
export const scheduleRunStates = ["created", "failed"] as const;
export type ScheduleRunState = (typeof scheduleRunStates)[number];

/**
 * What an API key may do. `read` reads tasks, batches, credits, usage and the ledger; `write`
 * creates and cancels; `admin` opens the admin API (`/admin/v1`) and nothing else.
 */
export const apiKeyScopes = ["read", "write", "admin"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** The windows a key's spend limits count over (`api_key_spend.period`). */
export const spendPeriods = ["hour", "day", "total"] as const;
export type SpendPeriod = (typeof spendPeriods)[number];
