export { type ApiAppOptions, createApiApp } from "./app";
export { toAivideoapiTask } from "./front-doors/aivideoapi";
