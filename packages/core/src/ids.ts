import { ulid } from "ulid";

const prefixes = {
  account: "acct",
  apiKey: "key",
  task: "task",
  attempt: "att",
  ledger: "led",
} as const;

/** Prefixed, time-sortable ids: `task_01J…` reads well in logs and URLs. */
export function newId(kind: keyof typeof prefixes, now: number = Date.now()): string {
  return `${prefixes[kind]}_${ulid(now).toLowerCase()}`;
}
