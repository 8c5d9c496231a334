import { IDEMPOTENCY_KEY_TTL_MS } from "@ripen/core";
import { idempotencyKeys, ledgerEntries, tasks } from "@ripen/db";
import { ledgerViolations, startTestStack, type TestStack } from "@ripen/testkit";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

// No worker: what is asserted is what the creates wrote.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

/** A create as a client sends it, with its own headers. */
async function create(
  apiKey: string,
  body: unknown,
  idempotencyKey?: string,
  endpoint = "/v1/images/generations",
) {
  const response = await fetch(`${stack.apiUrl}${endpoint}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      ...(idempotencyKey === undefined ? {} : { "idempotency-key": idempotencyKey }),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const cat = { model: "nano-banana-2", input: { prompt: "a cat", aspect_ratio: "16:9" } };

async function tasksOf(accountId: string) {
  const [row] = await stack.db.db
    .select({ n: count() })
    .from(tasks)
    .where(eq(tasks.accountId, accountId));
  return row?.n;
}
async function holdsOf(accountId: string) {
  const [row] = await stack.db.db
    .select({ n: count() })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.accountId, accountId), eq(ledgerEntries.kind, "hold")));
  return row?.n;
}

describe("Idempotency-Key on creates", () => {
  it("200 parallel creates with one key: one task, one hold, all answered with its id", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => create(apiKey, cat, "order-7f3a")),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(200));
    const ids = new Set(answers.map((a) => a.body.data.taskId));
    expect(ids.size).toBe(1);
    expect(await tasksOf(accountId)).toBe(1);
    expect(await holdsOf(accountId)).toBe(1);
    const credits = await stack.request("GET", "/v1/credits", { key: apiKey });
    expect(credits.body.data).toEqual({ credits: 984, balance: 1_000, held: 16 });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("200 parallel creates with 20 keys (10 each) on one account: 20 tasks", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        create(apiKey, { ...cat, input: { prompt: `cat ${i % 20}` } }, `key-${i % 20}`),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    for (let k = 0; k < 20; k++) {
      const same = answers.filter((_, i) => i % 20 === k).map((a) => a.body.data.taskId);
      expect(new Set(same).size).toBe(1);
    }
    expect(new Set(answers.map((a) => a.body.data.taskId)).size).toBe(20);
    expect(await tasksOf(accountId)).toBe(20);
    expect(await holdsOf(accountId)).toBe(20);
  });

  it("keyed and unkeyed creates of one account at once: no deadlock, each answered as alone", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000 * 16);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? create(apiKey, cat, "mixed")
          : create(apiKey, { ...cat, input: { prompt: `${i}` } }),
      ),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.filter((_, i) => i % 2 === 0).map((a) => a.body.data.taskId)).size).toBe(
      1,
    );
    expect(await tasksOf(accountId)).toBe(101);
    expect(await holdsOf(accountId)).toBe(101);
  });

  it("a repeat later answers the original task (whatever its key order or spacing)", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const first = await create(apiKey, cat, "retry-me");
    const reordered = `{ "input": {"aspect_ratio":"16:9",  "prompt":"a cat"}, "model":"nano-banana-2" }`;
    const second = await create(apiKey, reordered, "retry-me");
    expect(second).toEqual(first);
    expect(await tasksOf(accountId)).toBe(1);
    // Without a key, the same body is a new task.
    const unkeyed = await create(apiKey, cat);
    expect(unkeyed.body.data.taskId).not.toBe(first.body.data.taskId);
    expect(await tasksOf(accountId)).toBe(2);
  });

  it("the same key with another body or endpoint is a 409 in the envelope; nothing is charged", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const first = await create(apiKey, cat, "k1");
    expect(first.status).toBe(200);
    const others = [
      await create(apiKey, { ...cat, input: { prompt: "a dog", aspect_ratio: "16:9" } }, "k1"),
      await create(apiKey, { ...cat, callback_url: "https://example.com/hook" }, "k1"),
      await create(apiKey, { ...cat, timeout_seconds: 60 }, "k1"),
      await create(
        apiKey,
        { model: "veo-3.1-fast", input: { prompt: "a cat" } },
        "k1",
        "/v1/videos/generations",
      ),
    ];
    for (const answer of others) {
      expect(answer.status).toBe(409);
      expect(answer.body).toEqual({
        error: {
          code: "idempotency_key_reused",
          message: expect.stringContaining("'k1'"),
          type: "idempotency_error",
        },
      });
    }
    expect(await tasksOf(accountId)).toBe(1);
    expect(await holdsOf(accountId)).toBe(1);
  });

  it("keys are per account: the same key on another account makes its own task", async () => {
    const a = await stack.createAccount(1_000);
    const b = await stack.createAccount(1_000);
    const [fromA, fromB] = await Promise.all([
      create(a.apiKey, cat, "shared-key"),
      create(b.apiKey, { ...cat, input: { prompt: "other" } }, "shared-key"),
    ]);
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    expect(fromA.body.data.taskId).not.toBe(fromB.body.data.taskId);
    expect(await tasksOf(a.accountId)).toBe(1);
    expect(await tasksOf(b.accountId)).toBe(1);
    // Each account's task is its own: B's key does not reveal A's task.
    const bTask = await stack.request("GET", `/v1/tasks/${fromA.body.data.taskId}`, {
      key: b.apiKey,
    });
    expect(bTask.status).toBe(404);
  });

  it("a key is free again after 24 hours: a new task, even with another body", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const first = await create(apiKey, cat, "daily");
    stack.clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1_000);
    try {
      expect((await create(apiKey, cat, "daily")).body).toEqual(first.body);
      stack.clock.advance(2_000);
      const again = await create(apiKey, cat, "daily");
      expect(again.status).toBe(200);
      expect(again.body.data.taskId).not.toBe(first.body.data.taskId);
      expect((await create(apiKey, cat, "daily")).body).toEqual(again.body);
      expect((await create(apiKey, { ...cat, input: { prompt: "x" } }, "daily")).status).toBe(409);
    } finally {
      stack.clock.advance(-(IDEMPOTENCY_KEY_TTL_MS + 1_000));
    }
    expect(await tasksOf(accountId)).toBe(2);
    expect(await holdsOf(accountId)).toBe(2);
    const [row] = await stack.db.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.accountId, accountId), eq(idempotencyKeys.key, "daily")));
    expect(row?.taskId).not.toBe(first.body.data.taskId);
  });

  it("a lapsed key taken by many at once still makes one new task", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    await create(apiKey, cat, "lapsed");
    stack.clock.advance(IDEMPOTENCY_KEY_TTL_MS + 1_000);
    try {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => create(apiKey, cat, "lapsed")),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(new Set(answers.map((a) => a.body.data.taskId)).size).toBe(1);
    } finally {
      stack.clock.advance(-(IDEMPOTENCY_KEY_TTL_MS + 1_000));
    }
    expect(await tasksOf(accountId)).toBe(2);
  });

  it("a refused create does not use its key: the same key works once the request can succeed", async () => {
    const { apiKey, accountId } = await stack.createAccount(10);
    const invalid = await create(apiKey, { ...cat, input: { prompt: "" } }, "k-refused");
    expect(invalid.status).toBe(400);
    const poor = await create(apiKey, cat, "k-refused");
    expect(poor.status).toBe(402);
    expect(poor.body.error.code).toBe("insufficient_credits");
    expect(await tasksOf(accountId)).toBe(0);
    // A cheaper request (10 credits) under the same key: the key was never bound.
    const lite = await create(
      apiKey,
      { model: "nano-banana-2-lite", input: { prompt: "a cat" } },
      "k-refused",
    );
    expect(lite.status).toBe(200);
    expect(await tasksOf(accountId)).toBe(1);
  });

  it("refuses a key that is empty, too long, or not printable ASCII, before anything is written", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    for (const key of ["", "x".repeat(256), "caf\u00e9", "tab\there"]) {
      const res = await create(apiKey, cat, key);
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(res.body.error).toMatchObject({
        code: "invalid_request",
        message: expect.stringContaining("'Idempotency-Key'"),
      });
    }
    expect(await tasksOf(accountId)).toBe(0);
    for (const key of [
      "x".repeat(255),
      "a",
      " spaced key ~!@#$%^&*()",
      "550e8400-e29b-41d4-a716-446655440000",
    ]) {
      expect((await create(apiKey, cat, key)).status, key).toBe(200);
    }
    expect(await tasksOf(accountId)).toBe(4);
  });
});

describe("Idempotency-Key on batch creates", () => {
  const items = (n: number, tag = "b") =>
    Array.from({ length: n }, (_, i) => ({
      model: "nano-banana-2",
      input: { prompt: `${tag} ${i}` },
    }));
  async function batchesOf(accountId: string) {
    const rows = await stack.db.db
      .select({ batchId: tasks.batchId, n: count() })
      .from(tasks)
      .where(eq(tasks.accountId, accountId))
      .groupBy(tasks.batchId);
    return rows;
  }

  it("20 parallel batch creates with one key: one batch, its items held once, all answered with its id", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        create(apiKey, { requests: items(5) }, "batch-order-1", "/v1/batches"),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.data.id)).size).toBe(1);
    expect(await batchesOf(accountId)).toEqual([{ batchId: answers[0]?.body.data.id, n: 5 }]);
    expect(await holdsOf(accountId)).toBe(5);
    const credits = await stack.request("GET", "/v1/credits", { key: apiKey });
    expect(credits.body.data).toEqual({ credits: 920, balance: 1_000, held: 80 });
    expect(await ledgerViolations(stack.db.db)).toEqual([]);
  });

  it("a repeat later answers the batch its key made, as it is now, with the same refusals", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const body = {
      partial: true,
      requests: [...items(2, "later"), { model: "no-such-model", input: { prompt: "x" } }],
    };
    const first = await create(apiKey, body, "batch-retry", "/v1/batches");
    expect(first.status).toBe(200);
    expect(first.body.data.rejected).toHaveLength(1);
    const second = await create(apiKey, body, "batch-retry", "/v1/batches");
    expect(second.status).toBe(200);
    expect(second.body.data).toMatchObject({
      id: first.body.data.id,
      total: 2,
      rejected: first.body.data.rejected,
    });
    expect(await batchesOf(accountId)).toHaveLength(1);
    expect(await holdsOf(accountId)).toBe(2);
  });

  it("one key across a batch and a task, or two batch bodies, is a 409; nothing more is charged", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    expect((await create(apiKey, { requests: items(2) }, "b-k1", "/v1/batches")).status).toBe(200);
    expect((await create(apiKey, cat, "t-k1")).status).toBe(200);
    const conflicts = [
      await create(apiKey, { requests: items(3) }, "b-k1", "/v1/batches"),
      await create(apiKey, cat, "b-k1"),
      await create(apiKey, { requests: items(2) }, "t-k1", "/v1/batches"),
    ];
    for (const answer of conflicts) {
      expect(answer.status).toBe(409);
      expect(answer.body.error).toMatchObject({ code: "idempotency_key_reused" });
    }
    expect(await tasksOf(accountId)).toBe(3);
    expect(await holdsOf(accountId)).toBe(3);
  });

  it("a refused batch does not use its key; a bad key is refused before anything is written", async () => {
    const { apiKey, accountId } = await stack.createAccount(40);
    const poor = await create(apiKey, { requests: items(5) }, "b-refused", "/v1/batches");
    expect(poor.status).toBe(402);
    expect(await tasksOf(accountId)).toBe(0);
    const bad = await create(apiKey, { requests: items(1) }, "caf\u00e9", "/v1/batches");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("'Idempotency-Key'");
    expect(await tasksOf(accountId)).toBe(0);
    const fits = await create(apiKey, { requests: items(2) }, "b-refused", "/v1/batches");
    expect(fits.status).toBe(200);
    expect(await tasksOf(accountId)).toBe(2);
  });

  it("a batch's key lapses after 24 hours like a task's", async () => {
    const { apiKey, accountId } = await stack.createAccount(1_000);
    const first = await create(apiKey, { requests: items(1) }, "b-daily", "/v1/batches");
    stack.clock.advance(IDEMPOTENCY_KEY_TTL_MS + 1_000);
    try {
      const again = await create(apiKey, cat, "b-daily");
      expect(again.status).toBe(200);
      expect(again.body.data.taskId).toBeDefined();
    } finally {
      stack.clock.advance(-(IDEMPOTENCY_KEY_TTL_MS + 1_000));
    }
    expect(first.status).toBe(200);
    expect(await tasksOf(accountId)).toBe(2);
  });
});
