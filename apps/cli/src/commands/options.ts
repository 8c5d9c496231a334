import { ApiClient, DEFAULT_API_URL } from "./http";

/** Bad input from the user: printed with the usage, exit code 1. */
export class UsageError extends Error {}

/** Every option of every command; each command refuses the ones it does not take. */
export const options = {
  // operator commands
  name: { type: "string" },
  credits: { type: "string" },
  since: { type: "string" },
  "credit-usd": { type: "string" },
  // user commands
  key: { type: "string" },
  "api-url": { type: "string" },
  watch: { type: "boolean", default: false },
  partial: { type: "boolean", default: false },
  "callback-url": { type: "string" },
  format: { type: "string" },
  output: { type: "string", short: "o" },
  cron: { type: "string" },
  timezone: { type: "string" },
  file: { type: "string" },
  // admin commands (over the admin API)
  "admin-token": { type: "string" },
  db: { type: "boolean", default: false },
  reason: { type: "string" },
  "idempotency-key": { type: "string" },
  "max-active-tasks": { type: "string" },
  vip: { type: "string" },
  plan: { type: "string" },
  months: { type: "string" },
  "ends-at": { type: "string" },
  "monthly-credits": { type: "string" },
  scopes: { type: "string" },
  "expires-at": { type: "string" },
  "overlap-seconds": { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  // ledger and usage
  account: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  "group-by": { type: "string" },
  csv: { type: "boolean", default: false },
  // everywhere
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

export interface Values {
  name?: string;
  credits?: string;
  since?: string;
  "credit-usd"?: string;
  key?: string;
  "api-url"?: string;
  watch?: boolean;
  partial?: boolean;
  "callback-url"?: string;
  format?: string;
  output?: string;
  cron?: string;
  timezone?: string;
  file?: string;
  "admin-token"?: string;
  db?: boolean;
  reason?: string;
  "idempotency-key"?: string;
  "max-active-tasks"?: string;
  vip?: string;
  plan?: string;
  months?: string;
  "ends-at"?: string;
  "monthly-credits"?: string;
  scopes?: string;
  "expires-at"?: string;
  "overlap-seconds"?: string;
  limit?: string;
  cursor?: string;
  account?: string;
  from?: string;
  to?: string;
  "group-by"?: string;
  csv?: boolean;
  json?: boolean;
  help?: boolean;
}

/** Refuses options the command does not take, so a typo'd flag is not silently ignored. */
export function allowOnly(command: string, values: Values, allowed: readonly (keyof Values)[]) {
  const always: (keyof Values)[] = ["json", "help", "key", "api-url"];
  const given = (Object.keys(values) as (keyof Values)[]).filter(
    (name) => values[name] !== undefined && values[name] !== false,
  );
  const extra = given.filter((name) => !allowed.includes(name) && !always.includes(name));
  if (extra.length > 0) {
    throw new UsageError(`${command} does not take ${extra.map((n) => `--${n}`).join(", ")}.`);
  }
}

/** Exactly the positional arguments a command takes. */
export function positionalsOf(command: string, rest: string[], names: readonly string[]) {
  if (rest.length !== names.length) {
    throw new UsageError(`${command} needs ${names.join(" ") || "no arguments"}.`);
  }
  return rest;
}

/** The API client from `--api-url`/`RIPEN_API_URL` and `--key`/`RIPEN_API_KEY`. */
export function apiClientOf(values: Values, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const key = values.key ?? env.RIPEN_API_KEY;
  if (!key?.trim()) throw new UsageError("No API key: set RIPEN_API_KEY or pass --key.");
  const baseUrl = values["api-url"] ?? (env.RIPEN_API_URL?.trim() || DEFAULT_API_URL);
  try {
    new URL(baseUrl);
  } catch {
    throw new UsageError(`The API URL must be a URL, got '${baseUrl}'.`);
  }
  return new ApiClient({ baseUrl, key: key.trim() });
}
