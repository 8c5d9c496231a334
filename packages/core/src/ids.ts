import { randomFillSync } from "node:crypto";
import { encodeTime, ulid } from "ulid";

const prefixes = {
  account: "acct",
  apiKey: "key",
  task: "task",
  attempt: "att",
  /** A status poll of a rate-limited provider (`provider_polls`). */
  poll: "poll",
  ledger: "led",
  /** A client webhook delivery: its Standard Webhooks `webhook-id`. */
  delivery: "msg",
  webhookSecret: "whsk",
  batch: "batch",
  schedule: "sched",
  scheduleRun: "run",
  plan: "plan",
  subscription: "sub",
} as const;

// ulid's default PRNG draws crypto randomness one byte per character (16 calls per id); this one
// serves the same crypto-random bytes from a pool refilled 4 KiB at a time.
const pool = Buffer.alloc(4096);
let next = pool.length;
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** Prefixed, time-sortable ids: `task_01J…` reads well in logs and URLs. */
export function newId(kind: keyof typeof prefixes, now: number = Date.now()): string {
  return `${prefixes[kind]}_${ulid(now, pooledRandom).toLowerCase()}`;
}

/**
 * The least id `newId(kind)` could make at `at`: ids of `kind` made since then sort at or above
 * it, so a range of the primary key finds recent rows without an index on their time.
 */
export function idFloor(kind: keyof typeof prefixes, at: number): string {
  return `${prefixes[kind]}_${encodeTime(at, 10).toLowerCase()}${"0".repeat(16)}`;
}

/** Whether `value` is an id `newId(kind)` could have made: its prefix and a lowercase ULID. */
export function isIdOf(kind: keyof typeof prefixes, value: string): boolean {
  const ulidChars = /^[0-9a-hjkmnp-tv-z]{26}$/;
  const prefix = `${prefixes[kind]}_`;
  return value.startsWith(prefix) && ulidChars.test(value.slice(prefix.length));
}
