import { randomUUID } from "node:crypto";
import { createApiKey } from "@ripen/core";
import { type Listening, listen } from "@ripen/infra";
import { createProducerRedis, type RedisConnection } from "@ripen/queue";
import { startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "./app";

let stack: TestStack;
let accountId: string;
const servers: Listening[] = [];
const prefix = `{test-rl-${randomUUID()}}`;

/** An API process of its own over the stack's database, counting in `redis`. */
async function apiProcess(redis: RedisConnection): Promise<Listening> {
  const server = await listen(
    createApiApp({
      db: stack.db.db,
      enqueue: async () => {},
      logger: pino({ level: "silent" }),
      clock: stack.clock,
      ender: stack.ender,
      rateLimit: { redis, prefix, defaultPerMinute: 4 },
    }),
    { port: 0, host: "127.0.0.1", name: "API" },
  );
  servers.push(server);
  return server;
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ({ accountId } = await stack.createAccount(0));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const key of await stack.producerRedis.keys(`${prefix}*`))
    await stack.producerRedis.del(key);
  await stack?.close();
});

/** The parts of each door's error body these tests read. */
const errorOf = async (res: Response) =>
  (await res.json()) as { code?: number; error?: { code: string } };

const get = (base: string, path: string, key: string) =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });

describe("the per-key request rate", () => {
  it("holds N parallel requests across two API processes to exactly the limit, with headers", async () => {
    const [a, b] = [await apiProcess(stack.producerRedis), await apiProcess(stack.producerRedis)];
    const { apiKey } = await createApiKey(stack.db.db, { accountId, rateLimitPerMinute: 10 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => get(i % 2 ? a!.url : b!.url, "/v1/credits", apiKey)),
    );
    const accepted = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(30);
    for (const res of answers) {
      expect(res.headers.get("ratelimit-limit")).toBe("10");
      expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
      expect(Number(res.headers.get("ratelimit-reset"))).toBeLessThanOrEqual(60);
    }
    const remaining = accepted.map((r) => Number(r.headers.get("ratelimit-remaining"))).sort();
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const res of refused) {
      expect(res.headers.get("ratelimit-remaining")).toBe("0");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await errorOf(res)).error?.code).toBe("rate_limit_exceeded");
    }
  });

  it("answers a refusal in each door's own shape; the default limit applies without the key's own", async () => {
    const server = await apiProcess(stack.producerRedis);
    const { apiKey } = await createApiKey(stack.db.db, { accountId });
    for (let i = 0; i < 4; i++) {
      expect((await get(server.url, "/v1/credits", apiKey)).status).toBe(200);
    }
    const nanobanana = await get(server.url, "/api/v1/account/credits", apiKey);
    expect(nanobanana.status).toBe(429);
    expect((await errorOf(nanobanana)).error?.code).toBe("RATE_LIMIT_EXCEEDED");
    const kie = await get(server.url, "/api/v1/jobs/recordInfo?taskId=x", apiKey);
    expect(kie.status).toBe(429);
    expect((await errorOf(kie)).code).toBe(429);
    const revid = await fetch(`${server.url}/paid/get/taskid?taskId=x`, {
      method: "POST",
      headers: { "x-api-key": apiKey },
    });
    expect(revid.status).toBe(429);
    expect((await errorOf(revid)).code).toBe(429);
    for (const res of [nanobanana, kie, revid]) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(res.headers.get("ratelimit-limit")).toBe("4");
    }
  });

  it("keeps answering with Redis down, each process then holding keys to the limit alone", async () => {
    // Nothing listens on port 1: the connection never becomes ready.
    const down = createProducerRedis("redis://127.0.0.1:1", { lazyConnect: true });
    down.on("error", () => {});
    try {
      const server = await apiProcess(down);
      const { apiKey } = await createApiKey(stack.db.db, { accountId, rateLimitPerMinute: 3 });
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await get(server.url, "/v1/credits", apiKey)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      down.disconnect();
    }
  });
});
