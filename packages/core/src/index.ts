export {
  authenticateApiKey,
  createAccount,
  createApiKey,
  hashApiKey,
  type Principal,
} from "./accounts";
export { type AttemptWriter, createAttemptWriter } from "./attempt-writer";
export {
  type AcceptAttemptArgs,
  acceptAttempt,
  acceptAttempts,
  clearNotFound,
  currentAttempt,
  endAttempt,
  failAttempt,
  findTaskAndLatestAttempt,
  findTaskWithAttempt,
  listAttempts,
  noteNotFound,
  type OpenAttemptArgs,
  openAttempt,
  openAttempts,
  wasBusy,
} from "./attempts";
export { cancelBatch } from "./batch-cancel";
export {
  BATCH_MAX_ITEMS,
  BatchInvalid,
  type BatchItemError,
  type BatchRequestItem,
  type CreateBatchArgs,
  type CreatedBatch,
  createBatch,
  type PreparedBatch,
  prepareBatch,
} from "./batch-create";
export {
  BATCH_COMPLETED_EVENT,
  BatchNotFound,
  type BatchSummary,
  type BatchView,
  batchView,
  type EndedBatch,
  endBatchIfDone,
  endIdleBatches,
  getBatchForAccount,
  getBatchSummary,
  summarizeBatch,
  writeBatchDelivery,
} from "./batch-end";
export { type BatchListPosition, batchItems, listBatches } from "./batches";
export { cancelTask } from "./cancel";
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
  writeDeliveries,
} from "./deliveries";
export {
  AccountDisabled,
  AccountNotFound,
  ActiveTaskLimitExceeded,
  Conflict,
  DeliveryNotFound,
  DeliveryPending,
  DomainError,
  Forbidden,
  IdempotencyKeyReused,
  IllegalTransition,
  InsufficientCredits,
  InsufficientScope,
  InvalidRequest,
  IpNotAllowed,
  isDatabaseUnavailable,
  KeyExpired,
  LimitExceeded,
  ModelNotFound,
  ProviderError,
  RateLimitExceeded,
  ServiceUnavailable,
  SpendLimitExceeded,
  SubscriptionRequired,
  TaskAlreadyEnded,
  TaskNotFound,
  Unauthenticated,
} from "./errors";
export { createGroupCommit, type GroupCommit, type GroupCommitOptions } from "./group-commit";
export {
  type CreateOnceResult,
  canonicalJson,
  createTaskOnce,
  IDEMPOTENCY_KEY_TTL_MS,
  idempotencyRequestHash,
  parseIdempotencyKey,
} from "./idempotency";
export { isIdOf, newId } from "./ids";
export {
  type Credits,
  getCredits,
  getCreditsGranted,
  grantCredits,
  resolveHold,
  resolveHolds,
} from "./ledger";
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
export { type ProviderCallbackRecord, recordProviderCallbacks } from "./provider-callbacks";
export {
  createSchedule,
  findSchedule,
  getScheduleForAccount,
  listActiveSchedules,
  listScheduleRuns,
  listSchedules,
  ScheduleNotFound,
  type ScheduleTemplate,
  type StartedRun,
  scheduleBaseline,
  scheduleCallbackUrlOf,
  scheduleRunKey,
  scheduleRunView,
  scheduleTemplateOf,
  scheduleView,
  startScheduleRun,
  type TemplateChecks,
  updateSchedule,
  validateScheduleTemplate,
} from "./schedules";
export {
  type CreatedTask,
  type CreateTaskArgs,
  createTask,
  type IdempotencyClaim,
  MIN_TIMEOUT_SECONDS,
  type PreparedTask,
  prepareTask,
  writeClaimedTask,
  writeTask,
  writeTasks,
} from "./task-create";
export * from "./task-ending";
export {
  type ListTasksArgs,
  listTasks,
  type TaskListPage,
  type TaskListPosition,
} from "./task-list";
export {
  isActiveStatus,
  sourcesOf,
  type TransitionArgs,
  taskTransitions,
  transitionTask,
} from "./task-machine";
export {
  doorCallbackBody,
  type KieFamilyRecordView,
  type KieFamilyState,
  kieFamilyRecordView,
  type NanobananaImageStatus,
  type NanobananaStatusView,
  type NanobananaVideoStatus,
  type NativeTaskView,
  type NativeWireStatus,
  nanobananaStatusView,
  nativeTaskView,
  nativeWireStatusOf,
} from "./task-view";
export { createTaskWriter, type TaskWriter, type TaskWriterOptions } from "./task-writer";
export {
  claimOverdueWakes,
  findTask,
  getTaskForAccount,
  listOverdueTasks,
  setNextWake,
} from "./tasks";
export {
  generateWebhookSecret,
  getWebhookSecret,
  rotateWebhookSecret,
  signingSecrets,
  WEBHOOK_SECRET_OVERLAP_MS,
  type WebhookSecretView,
} from "./webhook-secrets";
