export { refusalOf, type UrlPolicy } from "./addresses";
export {
  createUserUrlDispatcher,
  type GuardOptions,
  guardedConnector,
  guardedLookup,
} from "./guarded-dispatcher";
export { userUrlPolicyOf } from "./policy";
export { checkUserUrl, isUrlRefused, UrlRefused, urlRefusedOf } from "./user-url";
export { createUserUrlFetch, type UserUrlFetch, type UserUrlFetchOptions } from "./user-url-fetch";
