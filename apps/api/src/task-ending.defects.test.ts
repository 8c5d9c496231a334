/**
 * The drifted copies of a task's ending (issue 14): each test here failed before every ending went
 * through one core function and one after-commit step.
 */
import { acceptAttempt, callbackToken, findTask } from "@ripen/core";
import { deliveries, tasks } from "@ripen/db";
import { createProviderHealth } from "@ripen/providers";
import {
  createRunningTask,
  openTestAttempt,
  startTestStack,
  TEST_CALLBACK_SECRET,
  type TestStack,
} from "@ripen/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let stack: TestStack;

// No worker: nothing but the path under test ends a task or runs its job.
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

const image = (prompt: string) => ({ model: "nano-banana-2", input: { prompt } });
const BATCH_CALLBACK = "http://127.0.0.1:9/batch-callback";

async function submitBatch(apiKey: string, size: number) {
  const res = await stack.request("POST", "/v1/batches", {
    key: apiKey,
    body: {
      requests: Array.from({ length: size }, (_, i) => image(`${i}`)),
      callback_url: BATCH_CALLBACK,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const batchId = res.body.data.id as string;
  const items = await stack.db.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(eq(tasks.batchId, batchId))
    .orderBy(asc(tasks.id));
  return { batchId, itemIds: items.map((i) => i.id) };
}

const slotsKey = (provider = "aivideoapi") => `${stack.prefix}:provider:${provider}:slots`;

describe("every ending does what follows it", () => {
  it("cancelling a batch's last item sends batch.completed at once, not at the next sweep", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const { batchId, itemIds } = await submitBatch(apiKey, 1);
    const res = await stack.request("POST", `/v1/tasks/${itemIds[0]}/cancel`, { key: apiKey });
    expect(res.status).toBe(200);
    const [batchDelivery] = await stack.db.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.batchId, batchId));
    expect(batchDelivery?.event).toBe("batch.completed");
    // Its job was added after the cancel committed; no sweep has run.
    expect(await stack.deliveryQueue.queue.getJobState(batchDelivery!.id)).not.toBe("unknown");
  });

  it("a task queue's wake works detached from its queue (as processes pass it)", async () => {
    const { accountId } = await stack.createAccount(1_000);
    const { taskId } = await createRunningTask(stack.db.db, accountId);
    const { wake } = stack.taskQueue;
    await wake({
      id: taskId,
      deadlineAt: new Date(),
      createdAt: new Date(),
      batchId: null,
      status: "running",
    });
    expect(await stack.taskQueue.queue.getJobState(taskId)).not.toBe("unknown");
  });

  it("a batch cancel ends its items like any cancel: their provider slots are freed", async () => {
    const { apiKey } = await stack.createAccount(1_000);
    const { batchId, itemIds } = await submitBatch(apiKey, 2);
    const running = itemIds[0]!;
    const attempt = await openTestAttempt(stack.db.db, running);
    await acceptAttempt(stack.db.db, { attempt, providerTaskId: `up-${running}`, now: new Date() });
    const health = createProviderHealth(stack.producerRedis, stack.prefix);
    expect(
      await health.claimSlot(
        "aivideoapi",
        { taskId: running, deadlineMs: Date.now() + 60_000 },
        10,
        60_000,
      ),
    ).toBe(true);
    const res = await stack.request("POST", `/v1/batches/${batchId}/cancel`, { key: apiKey });
    expect(res.status).toBe(200);
    expect((await findTask(stack.db.db, running))?.status).toBe("canceled");
    expect(await stack.producerRedis.zscore(slotsKey(), running)).toBeNull();
  });

  it("a task ended by its provider's callback frees its provider slot at once", async () => {
    const { accountId } = await stack.createAccount(1_000);
    const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);
    const health = createProviderHealth(stack.producerRedis, stack.prefix);
    expect(
      await health.claimSlot("aivideoapi", { taskId, deadlineMs: Date.now() + 60_000 }, 10, 60_000),
    ).toBe(true);
    const token = callbackToken(TEST_CALLBACK_SECRET, taskId, 1);
    const res = await fetch(`${stack.callbacksUrl}/callbacks/aivideoapi/${taskId}/${token}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        id: providerTaskId,
        status: "completed",
        model: "nano-banana-2",
        output: { urls: ["https://files.example/a.png"], metadata: {} },
      }),
    });
    expect(res.status).toBe(200);
    expect((await findTask(stack.db.db, taskId))?.status).toBe("succeeded");
    expect(await stack.producerRedis.zscore(slotsKey(), taskId)).toBeNull();
  });

  it("a deadline the sweep enforces frees the task's provider slot", async () => {
    const { accountId } = await stack.createAccount(1_000);
    const { taskId } = await createRunningTask(stack.db.db, accountId);
    // kie counts its tasks in flight (maxConcurrent): only such a provider has slots to free.
    const health = createProviderHealth(stack.producerRedis, stack.prefix);
    expect(
      await health.claimSlot("kie", { taskId, deadlineMs: Date.now() + 60_000 }, 10, 60_000),
    ).toBe(true);
    await stack.db.db
      .update(tasks)
      .set({ provider: "kie", deadlineAt: new Date(Date.now() - 1_000) })
      .where(eq(tasks.id, taskId));
    const worker = await stack.startWorker();
    await worker.sweepNow();
    expect((await findTask(stack.db.db, taskId))?.status).toBe("expired");
    expect(await stack.producerRedis.zscore(slotsKey("kie"), taskId)).toBeNull();
  });
});
