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
  findAttempt,
  noteNotFound,
  openAttempt,
} from "./attempts";
export {
  AccountNotFound,
  DomainError,
  IllegalTransition,
  InsufficientCredits,
  InvalidRequest,
  isDatabaseUnavailable,
  ModelNotFound,
  ProviderError,
  ServiceUnavailable,
  TaskNotFound,
  Unauthenticated,
} from "./errors";
export { isIdOf, newId } from "./ids";
export { type Credits, getCredits, grantCredits, resolveHold } from "./ledger";
export { type LifecycleLogger, logTaskEnded, taskFields } from "./lifecycle-log";
export {
  type AspectRatio,
  aspectRatios,
  getModel,
  httpUrl,
  type ImageInput,
  invalidFromZod,
  isStorableText,
  type ModelSpec,
  models,
  normalizeImageInput,
  type OutputFormat,
  outputFormats,
  PROMPT_MAX_CHARS,
  priceOf,
  type Resolution,
  resolutions,
  storableString,
  URL_MAX_CHARS,
} from "./models";
export * from "./provider";
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
  isActiveStatus,
  listOverdueTasks,
  type PreparedTask,
  prepareTask,
  setNextWake,
  sourcesOf,
  type TaskOutcome,
  type TransitionArgs,
  taskTransitions,
  transitionTask,
  writeTask,
  writeTasks,
} from "./tasks";
