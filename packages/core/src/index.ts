export {
  type AccountSummary,
  type AccountView,
  createAccountByOperator,
  getAccountView,
  listAccounts,
  updateAccount,
} from "./account-admin";
export {
  type AuthenticatedKey,
  authenticateApiKey,
  createAccount,
  type Principal,
} from "./accounts";
export {
  API_KEY_CACHE_TTL_MS,
  ApiKeyNotFound,
  type ApiKeySettings,
  type ApiKeyView,
  createApiKey,
  forgetCachedApiKeys,
  getApiKey,
  hashApiKey,
  isAddressAllowed,
  listApiKeys,
  normalizeCidr,
  ROTATION_OVERLAP_DEFAULT_SECONDS,
  ROTATION_OVERLAP_MAX_SECONDS,
  revokeApiKey,
  rotateApiKey,
} from "./api-keys";
export { type AttemptWriter, createAttemptWriter } from "./attempt-writer";
export {
  type AcceptAttemptArgs,
  acceptAttempt,
  acceptAttempts,
  clearNotFound,
  currentAttempt,
  endAttempt,
  failAttempt,
  listAttempts,
  noteNotFound,
  type OpenAttemptArgs,
  openAttempt,
  openAttempts,
  type TaskAndAttempt,
  wasBusy,
} from "./attempts";
export { cancelBatch } from "./batch-cancel";
export {
  BATCH_MAX_ITEMS,
  BatchInvalid,
  type BatchItemError,
  type BatchRequestItem,
  type CreateBatchArgs,
  type CreateBatchOnceResult,
  type CreatedBatch,
  createBatch,
  createBatchOnce,
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
  CapacityExceeded,
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
  findKeyedTask,
  IDEMPOTENCY_KEY_TTL_MS,
  idempotencyRequestHash,
  parseIdempotencyKey,
} from "./idempotency";
export { idFloor, isIdOf, newId } from "./ids";
export {
  AdjustmentExceedsAvailable,
  adjustCredits,
  type Credits,
  creditsHeldTotal,
  getCredits,
  getCreditsGranted,
  grantCredits,
  resolveHold,
  resolveHolds,
} from "./ledger";
export {
  checkLedger,
  type LedgerCheck,
  type LedgerDrift,
  type LedgerRule,
  ledgerRules,
} from "./ledger-check";
export {
  type LedgerStatementArgs,
  type LedgerStatementEntry,
  type LedgerStatementPage,
  type LedgerStatementPosition,
  ledgerStatement,
} from "./ledger-statement";
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
export {
  activeSubscription,
  cancelSubscription,
  createPlan,
  findPlan,
  grantDueSubscriptionMonths,
  listPlans,
  listSubscriptions,
  PlanNameTaken,
  PlanNotFound,
  SubscriptionActive,
  SubscriptionNotFound,
  type SubscriptionView,
  startSubscription,
  subscriptionMonthKey,
} from "./plans";
export * from "./provider";
export {
  forgetPollsBefore,
  type ProviderActivity,
  type ProviderUse,
  providerActivity,
  providerUseSince,
  recordPoll,
} from "./provider-activity";
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
export { createTaskReader, type TaskReader } from "./task-reader";
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
  countTasksWaitingToStart,
  findTask,
  getTaskForAccount,
  listOverdueTasks,
  setNextWake,
  type TaskOrder,
  type TasksWaitingToStart,
} from "./tasks";
export {
  DEFAULT_CREDIT_USD,
  type UsageArgs,
  type UsageGroup,
  type UsageRow,
  usage,
  usageGroups,
} from "./usage";
export {
  generateWebhookSecret,
  getWebhookSecret,
  rotateWebhookSecret,
  signingSecrets,
  WEBHOOK_SECRET_OVERLAP_MS,
  type WebhookSecretView,
} from "./webhook-secrets";
