import { once } from "node:events";
import { createRunningTask, startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCallbacksEnder } from "./ender";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

/** A running single create's place in the queue. */
const orderOf = (id: string) => ({
  id,
  deadlineAt: new Date(),
  createdAt: new Date(),
  batchId: null,
  status: "running" as const,
});

describe("the callbacks service's task ender (as its main builds it)", () => {
  it("has a wake: a failover decided on a callback runs the task's job at once", async () => {
    const { accountId } = await stack.createAccount(1_000);
    const { taskId } = await createRunningTask(stack.db.db, accountId);
    const { ender, close } = createCallbacksEnder({
      logger: pino({ level: "silent" }),
      redis: { connection: stack.producerRedis, prefix: stack.prefix },
    });
    try {
      await ender.wake(orderOf(taskId));
      expect(await stack.taskQueue.queue.getJobState(taskId)).not.toBe("unknown");
    } finally {
      await close();
    }
  });

  it("answers an ending once it commits, its Redis effects behind: a Redis holding writes does not hold it", async () => {
    const { accountId } = await stack.createAccount(1_000);
    const { taskId, providerTaskId } = await createRunningTask(stack.db.db, accountId);
    const { ender, close } = createCallbacksEnder({
      logger: pino({ level: "silent" }),
      redis: { connection: stack.producerRedis, prefix: stack.prefix },
    });
    // The task's job, which the ending's effects remove: read with EXISTS, which a pause allows.
    await ender.wake(orderOf(taskId));
    const jobKey = stack.taskQueue.queue.toKey(taskId);
    const admin = stack.producerRedis.duplicate();
    await once(admin, "ready");
    try {
      await admin.call("CLIENT", "PAUSE", "20000", "WRITE");
      const ending = await ender.end(stack.db.db, {
        taskId,
        outcome: {
          status: "succeeded",
          output: { urls: ["https://example.com/a.png"], metadata: {} },
        },
        source: "callback",
        attempt: { number: 1, providerTaskId },
      });
      expect(ending).toMatchObject({ applied: true, task: { status: "succeeded" } });
      // Answered while Redis still held the effects' writes: the job is still there.
      expect(await admin.exists(jobKey)).toBe(1);
      await admin.call("CLIENT", "UNPAUSE");
      await ender.drain();
      expect(await admin.exists(jobKey)).toBe(0);
    } finally {
      await admin.call("CLIENT", "UNPAUSE");
      admin.disconnect();
      await close();
    }
  });

  it("logs a wake that fails instead of swallowing it", async () => {
    const warned: object[] = [];
    const logger = { info() {}, error() {}, warn: (fields: object) => void warned.push(fields) };
    const { ender } = createCallbacksEnder({ logger });
    await ender.wake(orderOf("task_none")); // no Redis: nothing to wake, nothing to log
    expect(warned).toEqual([]);
    const { createTaskEnder } = await import("@ripen/core");
    await createTaskEnder({ logger, wake: () => Promise.reject(new Error("boom")) }).wake(
      orderOf("t"),
    );
    expect(warned).toMatchObject([{ taskId: "t", err: "boom" }]);
  });
});
