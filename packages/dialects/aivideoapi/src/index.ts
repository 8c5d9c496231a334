export { type AivideoapiClientOptions, createAivideoapiAdapter, failureKindOf } from "./client";
export {
  errorReference,
  SERVICE_UNAVAILABLE_RETRY_AFTER_SECONDS,
  toWireError,
  WireError,
  type WireErrorCode,
} from "./errors";
export { documentedPrice, documentedPrices } from "./prices";
export { type AivideoapiBackend, createAivideoapiRouter, type RouterOptions } from "./router";
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
