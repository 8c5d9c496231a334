export { type CallbacksAppOptions, createCallbacksApp } from "./app";
export { type CallbackInput, type CallbackResult, receiveCallback } from "./receive-callback";
