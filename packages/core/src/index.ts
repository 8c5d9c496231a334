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
