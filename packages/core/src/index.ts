export {
  authenticateApiKey,
  createAccount,
  createApiKey,
  hashApiKey,
  type Principal,
} from "./accounts";
export {
  acceptAttempt,
  clearNotFound,
  currentAttempt,
  endAttempt,
  failAttempt,
  findAttempt,
  listAttempts,
  noteNotFound,
  openAttempt,
  wasBusy,
} from "./attempts";
export { canceledOutcome, cancelTask } from "./cancel";
export {
  claimOverdueDeliveries,
  DELIVERY_EXCERPT_BYTES,
  DELIVERY_LOG_KEEP,
  DELIVERY_SCHEDULE_MS,
  type DeliveryEvent,
  deliveryDueAt,
  deliveryEventOf,
  type EnqueueDelivery,
  enqueueDeliveryOf,
  type FinishedTry,
  findDelivery,
  finishDeliveryTry,
  giveUpDelivery,
  lastDeliveryTry,
  listDeliveries,
  redeliver,
  type StartedTry,
  startDeliveryTry,
  stateAfterTry,
  type TryResult,
  writeDelivery,
} from "./deliveries";
export {
  AccountNotFound,
  Conflict,
  DeliveryNotFound,
  DeliveryPending,
  DomainError,
  IdempotencyKeyReused,
  IllegalTransition,
  InsufficientCredits,
  InvalidRequest,
  isDatabaseUnavailable,
  ModelNotFound,
  ProviderError,
  ServiceUnavailable,
  TaskAlreadyEnded,
  TaskNotFound,
  Unauthenticated,
} from "./errors";
export {
  type CreateOnceResult,
  canonicalJson,
  createTaskOnce,
  IDEMPOTENCY_KEY_TTL_MS,
  idempotencyRequestHash,
  parseIdempotencyKey,
} from "./idempotency";
export { isIdOf, newId } from "./ids";
export { type Credits, getCredits, grantCredits, resolveHold } from "./ledger";
export { type LifecycleLogger, logTaskEnded, taskFields } from "./lifecycle-log";
export { marginByProvider, type ProviderMargin } from "./margin";
export {
  type AnyModelSpec,
  httpUrl,
  invalidFromZod,
  isStorableText,
  type ModelSpec,
  normalizeInput,
  oneOf,
  PROMPT_MAX_CHARS,
  parseInput,
  priceOf,
  promptText,
  type Route,
  storableString,
  URL_MAX_CHARS,
} from "./models";
export * from "./provider";
export {
  type ListTasksArgs,
  listTasks,
  type TaskListPage,
  type TaskListPosition,
} from "./task-list";
export {
  type NativeTaskView,
  type NativeWireStatus,
  nativeTaskView,
  nativeWireStatusOf,
} from "./task-view";
export { createTaskWriter, type TaskWriter, type TaskWriterOptions } from "./task-writer";
export {
  type CompleteTaskArgs,
  type CompleteTaskResult,
  type CreatedTask,
  type CreateTaskArgs,
  claimOverdueWakes,
  completeTask,
  createTask,
  expiredOutcome,
  findTask,
  getTaskForAccount,
  type IdempotencyClaim,
  isActiveStatus,
  listOverdueTasks,
  MIN_TIMEOUT_SECONDS,
  type PreparedTask,
  prepareTask,
  setNextWake,
  sourcesOf,
  type TaskOutcome,
  type TransitionArgs,
  taskTransitions,
  transitionTask,
  writeClaimedTask,
  writeTask,
  writeTasks,
} from "./tasks";
export {
  generateWebhookSecret,
  getWebhookSecret,
  rotateWebhookSecret,
  signingSecrets,
  WEBHOOK_SECRET_OVERLAP_MS,
  type WebhookSecretView,
} from "./webhook-secrets";
