export { createAivideoapiClient, failureKindOf } from "./client";
export {
  errorReference,
  SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS,
  toWireError,
  WireError,
  type WireErrorCode,
} from "./errors";
export {
  type AivideoapiInput,
  type AivideoapiModel,
  type AspectRatio,
  aspectRatios,
  documentedModels,
  nanoBanana2Input,
  nanoBanana2LiteInput,
  outputFormats,
  type Resolution,
  resolutions,
} from "./models";
export { documentedCost, documentedPrices } from "./prices";
export {
  type AivideoapiBackend,
  type CreateTaskOptions,
  createAivideoapiRouter,
  createdEnvelope,
  createOptionsOf,
  createRequestOf,
  type RouterOptions,
} from "./router";
export {
  type CreateTaskRequest,
  type CreateTaskResponse,
  type CreditsResponse,
  createTaskRequest,
  createTaskResponse,
  creditsResponse,
  type ErrorEnvelope,
  errorEnvelope,
  type TaskResponse,
  taskResponse,
  type WireStatus,
  wireStatuses,
} from "./schemas";
