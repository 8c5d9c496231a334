/** Defined once; feeds the pg enums, the zod schemas and the code. */
export const taskStatuses = [
  "queued",
  "submitting",
  "running",
  "succeeded",
  "failed",
  "canceled",
  "expired",
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export const activeTaskStatuses = [
  "queued",
  "submitting",
  "running",
] as const satisfies readonly TaskStatus[];
export const terminalTaskStatuses = [
  "succeeded",
  "failed",
  "canceled",
  "expired",
] as const satisfies readonly TaskStatus[];
export type ActiveTaskStatus = (typeof activeTaskStatuses)[number];
export type TerminalTaskStatus = (typeof terminalTaskStatuses)[number];

export const providerNames = ["aivideoapi"] as const;
export type ProviderName = (typeof providerNames)[number];

export const modelIds = ["nano-banana-2", "nano-banana-2-lite"] as const;
export type ModelId = (typeof modelIds)[number];

export const ledgerEntryKinds = ["grant", "hold", "capture", "release"] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

export const callbackOutcomes = ["applied", "duplicate", "ignored", "invalid"] as const;
export type CallbackOutcome = (typeof callbackOutcomes)[number];
