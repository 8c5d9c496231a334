import { startTestStack, type TestStack, until } from "@ripen/testkit";
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

/** Once the submitted task waits for its first poll: when that poll is due (ms). */
async function untilParked(taskId: string): Promise<number> {
  await stack.waitForTask(taskId, ["running"], 30_000);
  const wake = await until(async () => {
    const { rows } = await stack.db.pool.query<{ wake: Date }>(
      "select next_wake_at as wake from tasks where id = $1 and next_wake_at > now()",
      [taskId],
    );
    return rows[0]?.wake;
  });
  return wake.getTime();
}

describe("the order tasks start in", () => {
  // A single create is due 60 s after its create. Items with 30 s to live are due within it (at
  // their deadline); items with 100 s, 50 s after their create, half of their time. A chaos run
  // queued its 180-second items behind every single create until a minute before their
  // deadlines: a worker killed, a provider's Retry-After or a Redis restart then left them no
  // time, and they expired.
  it.each([30, 100])(
    "starts a batch's items with %i s to live before single creates made after them",
    async (timeoutSeconds) => {
      const { apiKey } = await stack.createAccount(10_000);
      const batch = await createBatch(apiKey, 3, timeoutSeconds);
      const singles = await createSingles(apiKey, 4);
      const order = await submissionOrder([...batch, ...singles]);
      expect(order.slice(0, 3).sort()).toEqual([...batch].sort());
    },
  );

  it("polls a started task ahead of every task not yet started, even those due before it", async () => {
    // A chaos run's queue held thousands of tasks due before the polls of tasks already paid for
    // upstream: their callbacks lost, 22 were not polled for 46 s and expired.
    const generationMs = 300;
    stack.sandbox.configure({ generationMs, callbackLossRate: 1 });
    try {
      const { apiKey } = await stack.createAccount(10_000);
      const [single] = await createSingles(apiKey, 1);
      const worker = await stack.startWorker();
      let pollDueAt: number;
      try {
        pollDueAt = await untilParked(single!);
      } finally {
        await worker.close();
      }
      // Items due 15 s from now: before the single create, due 60 s after its create.
      const batch = await createBatch(apiKey, 5, 30);
      // Its poll due and its generation over: the next worker finds both waiting.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, pollDueAt - Date.now()) + generationMs),
      );
      await submissionOrder([...batch, single!]);
      const { rows } = await stack.db.pool.query<{ polled_first: boolean }>(
        `select (select completed_at from tasks where id = $1) <
            (select min(started_at) from task_attempts where task_id = any($2)) as polled_first`,
        [single, batch],
      );
      expect(rows[0]?.polled_first).toBe(true);
    } finally {
      stack.sandbox.configure({ generationMs: 10, callbackLossRate: 0 });
    }
  });

  it("starts single creates before a batch whose deadline is far off, made before them", async () => {
    const { apiKey } = await stack.createAccount(10_000);
    const batch = await createBatch(apiKey, 3);
    const singles = await createSingles(apiKey, 2);
    const order = await submissionOrder([...batch, ...singles]);
    expect(order.slice(0, 2).sort()).toEqual([...singles].sort());
  });
});
