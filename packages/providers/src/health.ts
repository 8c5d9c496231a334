import { randomUUID } from "node:crypto";
import type { FailureKind } from "@ripen/core";
import type { Redis } from "ioredis";

/**
 * What every worker process knows of each provider's health and limits, kept in Redis so that
 * all of them see one circuit, one request budget and one count of tasks in flight. All of it is
 * soft state: a Redis that restarts empty only forgets recent failures and counts, which the
 * provider's own 429s and 409s then correct. Times come from Redis's own clock, so processes on
 * machines whose clocks disagree still share one window.
 */

/** Requests in the last `window` ms below `limit`: record this one (0), else ms until a slot frees. */
const ACQUIRE_REQUEST = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)`;

/** A lease on one of `max` slots for a task (kept if it already holds one): 1, or 0 when full. */
const CLAIM_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local until_ = now + tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], until_, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

/**
 * A failure: a circuit-kind failure opens the circuit at once for ARGV[2] ms; others count, and
 * the circuit opens for ARGV[3] ms once ARGV[1] have come in a row. Returns ms the circuit is
 * open for from now (0: closed).
 */
const RECORD_FAILURE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local openFor = 0
if ARGV[4] == 'circuit' then openFor = tonumber(ARGV[2])
elseif failures >= tonumber(ARGV[1]) then openFor = tonumber(ARGV[3]) end
if openFor > 0 then
  redis.call('HSET', KEYS[1], 'openUntil', now + openFor, 'reason', ARGV[5])
end
redis.call('PEXPIRE', KEYS[1], math.max(openFor, tonumber(ARGV[3])) + 3600000)
return openFor`;

/** Each provider's state as routing sees it, and its failures in a row. */
const READ_STATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS, 2 do
  local openUntil = tonumber(redis.call('HGET', KEYS[i], 'openUntil') or '0')
  local pausedUntil = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  table.insert(out, math.max(0, openUntil - now))
  table.insert(out, math.max(0, pausedUntil - now))
  table.insert(out, tonumber(redis.call('HGET', KEYS[i], 'failures') or '0'))
end
return out`;

/** Pauses a provider until now + ARGV[1] ms, never shortening a longer pause. */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then redis.call('SET', KEYS[1], until_, 'PX', ARGV[1]) end
return 0`;

export interface HealthPolicy {
  /** Failures in a row that open a provider's circuit (5). */
  failureThreshold: number;
  /** How long a circuit opened by failures stays open before a trial call (30 s). */
  openMs: number;
  /** How long our key or account being refused keeps it open (5 min): an operator must act. */
  refusedOpenMs: number;
}

export const defaultHealthPolicy: HealthPolicy = {
  failureThreshold: 5,
  openMs: 30_000,
  refusedOpenMs: 300_000,
};

export interface ProviderState {
  /** Ms the circuit stays open; 0 when closed (or half-open: a trial call may go). */
  openForMs: number;
  /** Ms it asked us to wait (Retry-After); 0 when not paused. */
  pausedForMs: number;
  /** Failures counted since its last success: 0 means a success has nothing to reset. */
  failures: number;
}

export interface ProviderHealth {
  /** Takes one of `limit` requests per window (a minute) from the provider's budget: 0 when granted, else ms to wait. */
  acquireRequest(providerId: string, limit: number, windowMs?: number): Promise<number>;
  /** Holds one of `max` in-flight slots for the task, for at most `leaseMs`; false when full. */
  claimSlot(providerId: string, taskId: string, max: number, leaseMs: number): Promise<boolean>;
  releaseSlot(providerId: string, taskId: string): Promise<void>;
  recordSuccess(providerId: string): Promise<void>;
  /** Returns how long the circuit is now open (0: still closed). */
  recordFailure(providerId: string, kind: FailureKind, reason: string): Promise<number>;
  /** The provider asked us to wait (Retry-After): nobody calls it before then. */
  pause(providerId: string, ms: number): Promise<void>;
  states(providerIds: readonly string[]): Promise<Map<string, ProviderState>>;
}

export function createProviderHealth(
  redis: Redis,
  prefix: string,
  policy: HealthPolicy = defaultHealthPolicy,
): ProviderHealth {
  const key = (providerId: string, what: string) => `${prefix}:provider:${providerId}:${what}`;
  const run = (script: string, keys: string[], args: (string | number)[]) =>
    redis.eval(script, keys.length, ...keys, ...args);

  return {
    async acquireRequest(providerId, limit, windowMs = 60_000) {
      const wait = await run(
        ACQUIRE_REQUEST,
        [key(providerId, "requests")],
        [windowMs, limit, randomUUID()],
      );
      return Number(wait);
    },
    async claimSlot(providerId, taskId, max, leaseMs) {
      const claimed = await run(CLAIM_SLOT, [key(providerId, "slots")], [max, taskId, leaseMs]);
      return Number(claimed) === 1;
    },
    async releaseSlot(providerId, taskId) {
      await redis.zrem(key(providerId, "slots"), taskId);
    },
    async recordSuccess(providerId) {
      await redis.del(key(providerId, "circuit"));
    },
    async recordFailure(providerId, kind, reason) {
      const openFor = await run(
        RECORD_FAILURE,
        [key(providerId, "circuit")],
        [policy.failureThreshold, policy.refusedOpenMs, policy.openMs, kind, reason.slice(0, 200)],
      );
      return Number(openFor);
    },
    async pause(providerId, ms) {
      await run(PAUSE, [key(providerId, "paused")], [Math.max(1, Math.ceil(ms))]);
    },
    async states(providerIds) {
      const keys = providerIds.flatMap((id) => [key(id, "circuit"), key(id, "paused")]);
      const values = keys.length ? ((await run(READ_STATE, keys, [])) as number[]) : [];
      return new Map(
        providerIds.map((id, i) => [
          id,
          {
            openForMs: Number(values[3 * i] ?? 0),
            pausedForMs: Number(values[3 * i + 1] ?? 0),
            failures: Number(values[3 * i + 2] ?? 0),
          },
        ]),
      );
    },
  };
}
