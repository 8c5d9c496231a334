/**
 * Spend and active-task limits over HTTP, across two API processes (each with its own pool and
 * task writer over one database): N parallel creates never commit one credit or one task past a
 * limit, and each refusal is in the door's own shape.
 */
import { randomUUID } from "node:crypto";
import { type Clock, createApiKey } from "@ripen/core";
import { accounts, createDb, type DbHandle, tasks } from "@ripen/db";
import { CREATE_PATH } from "@ripen/dialect-revid";
import { type Listening, listen } from "@ripen/infra";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiApp } from "./app";

/** 30 s before the hour ends: a refused hourly spend is told to retry in 30 s. */
const clock: Clock = { now: () => new Date("2030-01-07T13:59:30Z") };
const prefix = `{test-limits-${randomUUID()}}`;

let stack: TestStack;
let processes: [Listening, Listening];
const pools: DbHandle[] = [];

/** An API process of its own: its own pool and task writer, the shared Redis for rate limits. */
async function apiProcess(): Promise<Listening> {
  const pool = createDb(stack.db.url, { max: 10 });
  pools.push(pool);
  return listen(
    createApiApp({
      db: pool.db,
      enqueue: async () => {},
      logger: pino({ level: "silent" }),
      clock,
      ender: stack.ender,
      rateLimit: { redis: stack.producerRedis, prefix, defaultPerMinute: 1_000_000 },
    }),
    { port: 0, host: "127.0.0.1", name: "API" },
  );
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  processes = [await apiProcess(), await apiProcess()];
});
afterAll(async () => {
  await Promise.all((processes ?? []).map((p) => p.close()));
  await Promise.all(pools.map((p) => p.close()));
  for (const key of await stack.producerRedis.keys(`${prefix}*`)) {
    await stack.producerRedis.del(key);
  }
  await stack?.close();
});

const post = (base: string, path: string, key: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** N creates at once, alternating between the two processes. */
const createInParallel = (n: number, create: (base: string, i: number) => Promise<Response>) =>
  Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await create(processes[i % 2]!.url, i);
      return { status: res.status, headers: res.headers, body: (await res.json()) as any };
    }),
  );

const nativeCreate = (key: string) => (base: string, i: number) =>
  post(base, "/v1/images/generations", key, {
    model: "nano-banana-2",
    input: { prompt: `cat ${i}` },
  });

const kieCreate = (key: string) => (base: string, i: number) =>
  post(base, "/api/v1/jobs/createTask", key, {
    model: "nano-banana-2",
    input: { prompt: `cat ${i}` },
  });

const creditsCommittedBy = async (keyId: string) =>
  (await stack.db.db.select().from(tasks).where(eq(tasks.apiKeyId, keyId))).reduce(
    (sum, t) => sum + t.price,
    0,
  );

describe("limits across two API processes", () => {
  it("240 parallel native creates commit exactly the hourly spend limit's worth; the rest are 429 spend_limit_exceeded", async () => {
    const { accountId } = await stack.createAccount(1_000_000);
    const { apiKey, keyId } = await createApiKey(stack.db.db, {
      accountId,
      spendLimits: { hourly: 100 },
    });
    const answers = await createInParallel(240, nativeCreate(apiKey));
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    // 16 credits each: 6 × 16 = 96 ≤ 100 < 7 × 16.
    expect(accepted).toHaveLength(6);
    expect(await creditsCommittedBy(keyId)).toBe(96);
    for (const answer of refused) {
      expect(answer.status).toBe(429);
      expect(answer.body.error.code).toBe("spend_limit_exceeded");
      expect(answer.headers.get("retry-after")).toBe("30");
    }

    // A canceled task gives its credits back to the hour: exactly one more create fits.
    const canceled = await post(
      processes[0].url,
      `/v1/tasks/${accepted[0]!.body.data.taskId}/cancel`,
      apiKey,
      {},
    );
    expect(canceled.status).toBe(200);
    const again = await createInParallel(20, nativeCreate(apiKey));
    expect(again.filter((a) => a.status === 200)).toHaveLength(1);
    expect(await creditsCommittedBy(keyId)).toBe(96 + 16);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("200 parallel kie creates start exactly the account's active-task limit; the rest are kie's 409", async () => {
    const { accountId, apiKey } = await stack.createAccount(1_000_000);
    await stack.db.db.update(accounts).set({ maxActiveTasks: 5 }).where(eq(accounts.id, accountId));
    const answers = await createInParallel(200, kieCreate(apiKey));
    const accepted = answers.filter((a) => a.body.code === 200);
    const refused = answers.filter((a) => a.body.code !== 200);
    expect(accepted).toHaveLength(5);
    expect(refused).toHaveLength(195);
    for (const answer of refused) {
      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe(409);
      expect(answer.body.msg).toMatch(/active task limit/i);
    }
    const written = await stack.db.db.select().from(tasks).where(eq(tasks.accountId, accountId));
    expect(written).toHaveLength(5);

    // An ended task frees its slot: exactly one more starts.
    const [first] = written;
    const canceled = await post(processes[1].url, `/v1/tasks/${first!.id}/cancel`, apiKey, {});
    expect(canceled.status).toBe(200);
    const again = await createInParallel(20, kieCreate(apiKey));
    expect(again.filter((a) => a.body.code === 200)).toHaveLength(1);
    const [account] = await stack.db.db.select().from(accounts).where(eq(accounts.id, accountId));
    expect(account?.activeTasks).toBe(5);
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("each door refuses a create past a spend limit in its own shape, keyed creates included", async () => {
    const { accountId } = await stack.createAccount(1_000_000);
    const { apiKey, keyId } = await createApiKey(stack.db.db, {
      accountId,
      spendLimits: { hourly: 1 },
    });
    const base = processes[0].url;
    const json = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    const nanobananaCreate = () =>
      post(base, "/api/v1/images/generate", apiKey, {
        prompt: "x",
        model: "nano-banana",
        mode: "text",
      });
    // One credit (nanobanana's text mode) fills the hour; every create costs at least one.
    expect((await nanobananaCreate()).status).toBe(200);
    const answers = {
      native: await post(base, "/v1/images/generations", apiKey, {
        model: "nano-banana-2",
        input: { prompt: "x" },
      }),
      nativeKeyed: await fetch(`${base}/v1/images/generations`, {
        method: "POST",
        headers: { ...json, "idempotency-key": "spend-limit-keyed" },
        body: JSON.stringify({ model: "nano-banana-2", input: { prompt: "x" } }),
      }),
      nanobanana: await nanobananaCreate(),
      kie: await post(base, "/api/v1/jobs/createTask", apiKey, {
        model: "nano-banana-2",
        input: { prompt: "x" },
      }),
      revid: await fetch(`${base}${CREATE_PATH}`, {
        method: "POST",
        headers: { "x-api-key": apiKey, "content-type": "application/json" },
        body: JSON.stringify({ model: "google/nano-banana", input: { prompt: "x" } }),
      }),
    };
    const bodies = Object.fromEntries(
      await Promise.all(
        Object.entries(answers).map(async ([door, res]) => [door, (await res.json()) as any]),
      ),
    );
    for (const [door, res] of Object.entries(answers)) {
      expect(res.status, `${door}: ${JSON.stringify(bodies[door])}`).toBe(429);
      expect(res.headers.get("retry-after")).toBe("30");
    }
    expect(bodies.native.error.code).toBe("spend_limit_exceeded");
    expect(bodies.nativeKeyed.error.code).toBe("spend_limit_exceeded");
    expect(bodies.nanobanana.error.code).toBe("RATE_LIMIT_EXCEEDED");
    expect(bodies.kie.code).toBe(429);
    expect(bodies.revid.code).toBe(429);
    expect(await creditsCommittedBy(keyId)).toBe(1);
  });
});
