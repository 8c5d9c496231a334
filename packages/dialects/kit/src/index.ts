export {
  authenticateRequests,
  type ErrorsAsHttp200,
  type RequestAuthentication,
  readErrorsAsHttp200,
} from "./server";
export {
  createUpstreamHttp,
  kindOfNetworkError,
  kindOfStatus,
  retryAfterMs,
  safeJson,
  type UpstreamAnswer,
  type UpstreamHttp,
  type UpstreamHttpOptions,
} from "./upstream-http";
export {
  bearerToken,
  type ClientHttpError,
  describeClientHttpError,
  isClientHttpError,
  isPlainObject,
  parseJsonString,
  plainObject,
} from "./wire";
