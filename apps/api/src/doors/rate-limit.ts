import type { RedisConnection } from "@ripen/queue";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";

/** 001's default: 60 requests per minute per key. */
export const RATE_LIMIT_PER_MINUTE_DEFAULT = 60;
const WINDOW_SECONDS = 60;

/** One request counted against a key's limit, and what the RateLimit-* headers say. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window restarts (RateLimit-Reset; Retry-After when refused). */
  resetSeconds: number;
}

export interface RequestRateLimiter {
  /** Counts a request of `keyId`, held to `perMinute` (the key's own, else the default). */
  consume(keyId: string, perMinute: number | null): Promise<RateLimitDecision>;
}

export interface RequestRateLimiterOptions {
  /**
   * The Redis every API process shares, so a key's limit holds across them (a fixed window of
   * one minute per key, counted atomically by one Lua call). Absent: counted in this process only.
   */
  redis?: RedisConnection;
  /** Keys live under `<prefix>:ratelimit:` (QUEUE_PREFIX, so a deployment's keys stay together). */
  prefix?: string;
  /** RATE_LIMIT_PER_MINUTE: the limit of keys without their own. */
  defaultPerMinute?: number;
}

/**
 * Per-key request rate limiting with rate-limiter-flexible. With Redis, an unreachable Redis
 * falls back to a per-process in-memory limiter (its insuranceLimiter): the API keeps answering
 * and each process still holds every key to its limit, so the whole fleet allows at most
 * (processes × limit) per minute until Redis is back.
 */
export function createRequestRateLimiter(
  options: RequestRateLimiterOptions = {},
): RequestRateLimiter {
  const defaultPerMinute = options.defaultPerMinute ?? RATE_LIMIT_PER_MINUTE_DEFAULT;
  const keyPrefix = `${options.prefix ?? "{ripen}"}:ratelimit`;
  // One limiter per distinct limit: the stored counter is the same key whichever reads it, so a
  // key whose limit changes keeps its current window's count.
  const limiters = new Map<number, RateLimiterAbstract>();
  const limiterFor = (points: number): RateLimiterAbstract => {
    let limiter = limiters.get(points);
    if (!limiter) {
      const inMemory = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix });
      limiter = options.redis
        ? new RateLimiterRedis({
            storeClient: options.redis,
            points,
            duration: WINDOW_SECONDS,
            keyPrefix,
            // A Redis that is not connected goes to the fallback at once, not after a timeout.
            rejectIfRedisNotReady: true,
            insuranceLimiter: inMemory,
          })
        : inMemory;
      limiters.set(points, limiter);
    }
    return limiter;
  };
  // A RateLimiterRedis defines its Lua command on the client when it is built. Built during a
  // request, the command would be missing from an auto-pipeline another command opened earlier
  // in the same tick, which ioredis 5 turns into an uncaught TypeError (redis/ioredis#1931):
  // the first one is built here, before any request, and later ones find it in every pipeline.
  limiterFor(defaultPerMinute);

  return {
    async consume(keyId, perMinute) {
      const limit = perMinute ?? defaultPerMinute;
      const decision = (result: RateLimiterRes, allowed: boolean): RateLimitDecision => ({
        allowed,
        limit,
        remaining: Math.max(0, result.remainingPoints),
        resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
      });
      try {
        return decision(await limiterFor(limit).consume(keyId), true);
      } catch (refusal) {
        // A store error escapes only when the fallback failed as well: rethrown (a 500).
        if (refusal instanceof RateLimiterRes) return decision(refusal, false);
        throw refusal;
      }
    },
  };
}
