import { getBatchSummary } from "@ripen/core";
import { startTestStack, type TestStack } from "@ripen/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/*
 * The worker's share for batches (batch-gate.ts), end to end: a worker of 10 task slots with 2
 * for batch items runs a large batch 2 steps at a time, and an interactive task created after it
 * runs at once, while most of the batch still waits.
 */

const BATCH_SLOTS = 2;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    sandbox: { generationMs: 5 },
    workerOptions: { concurrency: 10, batchConcurrency: BATCH_SLOTS },
  });
  stack.sandbox.configure({ generationMs: 5, failureRate: 0, callbackLossRate: 0 });
});
afterAll(() => stack?.close());

const PRICE = 16; // nano-banana-2 at 1K

describe("the worker's share for batches", () => {
  it("runs a batch's items within its share, and an interactive task while the batch waits", async () => {
    const { accountId, apiKey } = await stack.createAccount(2_000 * PRICE);
    const other = await stack.createAccount(100);
    const res = await stack.request("POST", "/v1/batches", {
      key: apiKey,
      body: {
        requests: Array.from({ length: 600 }, (_, i) => ({
          model: "nano-banana-2",
          input: { prompt: `item ${i}` },
        })),
      },
    });
    expect(res.status).toBe(200);
    const batchId = res.body.data.id as string;

    // An item is `submitting` from its attempt's opening to its acceptance: within its step.
    let mostSubmitting = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await stack.db.pool.query<{ n: number }>(
          "select count(*)::int as n from tasks where batch_id = $1 and status = 'submitting'",
          [batchId],
        );
        mostSubmitting = Math.max(mostSubmitting, rows[0]?.n ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    // Let the batch fill its share first, as a batch accepted just before would.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const created = await stack.request("POST", "/v1/images/generations", {
      key: other.apiKey,
      body: { model: "nano-banana-2", input: { prompt: "interactive" } },
    });
    expect(created.status).toBe(200);
    expect(
      await stack.waitForTask(created.body.data.taskId, ["succeeded", "failed", "expired"], 10_000),
    ).toBe("succeeded");
    const during = await getBatchSummary(stack.db.db, accountId, batchId);
    sampling = false;
    await sampler;

    expect(during.counts.queued).toBeGreaterThan(100);
    expect(mostSubmitting).toBeGreaterThan(0);
    expect(mostSubmitting).toBeLessThanOrEqual(BATCH_SLOTS);

    const canceled = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key: apiKey });
    expect(canceled.status).toBe(200);
  }, 60_000);
});
