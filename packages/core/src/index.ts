export {
  authenticateApiKey,
  createAccount,
  createApiKey,
  hashApiKey,
  type Principal,
} from "./accounts";
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
export { newId } from "./ids";
export { type Credits, getCredits, grantCredits, holdCredits, resolveHold } from "./ledger";
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
export {
  type CreateTaskArgs,
  completeTask,
  createTask,
  expiredOutcome,
  findTask,
  getTaskForAccount,
  listOverdueTasks,
  listStaleActiveTasks,
  TASK_EVENTS_CHANNEL,
  type TaskEventNotice,
  type TaskOutcome,
  transitionTask,
} from "./tasks";
