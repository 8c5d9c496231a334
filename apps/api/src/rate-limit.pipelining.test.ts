import { randomUUID } from "node:crypto";
import { createProducerRedis, whenReady } from "@ripen/queue";
import { afterAll, expect, inject, it } from "vitest";
import { createRequestRateLimiter } from "./doors/rate-limit";

// The API's Redis connection auto-pipelines: commands issued in one tick leave in one write.
const redis = createProducerRedis(inject("redisUrl"));
const prefix = `{test-rl-pipelining-${randomUUID()}}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

it("counts a key with its own limit while another command shares the tick's pipeline", async () => {
  const limiter = createRequestRateLimiter({ redis, prefix, defaultPerMinute: 60 });
  expect(await whenReady(redis)).toBe(true);
  // Opens this tick's auto-pipeline before the key's own limit (7) needs a limiter of its own.
  const other = redis.get(`${prefix}:other`);
  const decision = limiter.consume("key_own_limit", 7);
  expect(await other).toBeNull();
  expect(await decision).toMatchObject({ allowed: true, limit: 7, remaining: 6 });
  // Counted in Redis, not by the in-memory fallback a failed command would have gone to.
  expect(await redis.get(`${prefix}:ratelimit:key_own_limit`)).toBe("1");
});
