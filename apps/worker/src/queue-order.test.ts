import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The order workers take tasks in: earliest due first, single creates and batch items in one
 * line. A 20,000-task chaos run, whose batch items always came after every single create,
 * expired 90% of its admitted batch items unsubmitted while single creates kept arriving.
 */

let stack: TestStack;

beforeAll(async () => {
  // No worker until the tasks are queued; then one that takes one step at a time.
  stack = await startTestStack({
    worker: false,
    sandbox: { generationMs: 10 },
    workerOptions: { concurrency: 1, batchConcurrency: 1 },
  });
  stack.sandbox.configure({ generationMs: 10, failureRate: 0, callbackLossRate: 0 });
});
afterAll(() => stack?.close());

const item = (prompt: string, timeoutSeconds?: number) => ({
  model: "nano-banana-2",
  input: { prompt },
  ...(timeoutSeconds ? { timeout_seconds: timeoutSeconds } : {}),
});

async function createBatch(apiKey: string, n: number, timeoutSeconds?: number) {
  const res = await stack.request("POST", "/v1/batches", {
    key: apiKey,
    body: { requests: Array.from({ length: n }, (_, i) => item(`batch ${i}`, timeoutSeconds)) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const { rows } = await stack.db.pool.query<{ id: string }>(
    "select id from tasks where batch_id = $1 order by id",
    [res.body.data.id],
  );
  return rows.map((row) => row.id);
}

async function createSingles(apiKey: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await stack.request("POST", "/v1/images/generations", {
      key: apiKey,
      body: item(`single ${i}`),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    ids.push(res.body.data.taskId as string);
  }
  return ids;
}

/**
 * Starts a worker for the queued tasks and gives their ids in the order they were handed to a
 * provider, once all of them have been; the worker is stopped again for the next test.
 */
async function submissionOrder(ids: string[]): Promise<string[]> {
  const worker = await stack.startWorker();
  try {
    for (const id of ids) await stack.waitForTask(id, ["succeeded"], 30_000);
  } finally {
    await worker.close();
  }
  // The first attempt's start, not the task's submitted_at: a callback can settle a 10 ms
  // generation before its submit's answer is recorded, and then submitted_at stays empty.
  const { rows } = await stack.db.pool.query<{ task_id: string }>(
    `select task_id from task_attempts where task_id = any($1) and number = 1
      order by started_at, id`,
    [ids],
  );
  return rows.map((row) => row.task_id);
}

describe("the order tasks start in", () => {
  it("starts a batch's items due soon before single creates made after them", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const batch = await createBatch(apiKey, 3, 30);
    const singles = await createSingles(apiKey, 4);
    const order = await submissionOrder([...batch, ...singles]);
    expect(order.slice(0, 3).sort()).toEqual([...batch].sort());
  });

  it("starts single creates before a batch whose deadline is far off, made before them", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const batch = await createBatch(apiKey, 3);
    const singles = await createSingles(apiKey, 2);
    const order = await submissionOrder([...batch, ...singles]);
    expect(order.slice(0, 2).sort()).toEqual([...singles].sort());
  });
});
