export * from "./accounts";
export * from "./api-keys";
export * from "./constants";
export * from "./enums";
export * from "./ledger-entries";
export * from "./provider-callbacks";
export * from "./task-events";
export * from "./tasks";
