import { createRunningTask, startTestStack, type TestStack } from "@ripen/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCallbacksEnder } from "./ender";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(() => stack?.close());

/** A single create's place in the queue, due now. */
const orderOf = (id: string) => ({
  id,
  deadlineAt: new Date(),
  createdAt: new Date(),
  batchId: null,
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
