import { acceptAttempt, createTask, findTask, openAttempt } from "@ripen/core";
import type { Executor, TaskAttempt } from "@ripen/db";
import { getModel } from "@ripen/models";
import { TEST_CALLBACK_SECRET } from "./stack";

/** Opens the task's next attempt, as the worker does before it calls the upstream. */
export async function openTestAttempt(db: Executor, taskId: string): Promise<TaskAttempt> {
  const attempt = await openAttempt(db, {
    task: (await findTask(db, taskId))!,
    provider: "aivideoapi",
    upstreamModel: "nano-banana-2",
    upstreamCost: 16,
    upstreamCostMicros: 80_000,
    callbackSecret: TEST_CALLBACK_SECRET,
    now: new Date(),
  });
  if (!attempt) throw new Error(`task ${taskId} could not open an attempt`);
  return attempt;
}

/**
 * A nano-banana-2 task whose attempt 1 the upstream accepted as `upstream-<task id>`, now
 * running: what a test that plays the provider (posting callbacks) starts from.
 */
export async function createRunningTask(
  db: Executor,
  accountId: string,
): Promise<{ taskId: string; providerTaskId: string }> {
  const task = await createTask(db, {
    accountId,
    model: getModel("nano-banana-2"),
    input: { prompt: "x" },
  });
  const providerTaskId = `upstream-${task.id}`;
  const attempt = await openTestAttempt(db, task.id);
  await acceptAttempt(db, { attempt, providerTaskId, now: new Date() });
  return { taskId: task.id, providerTaskId };
}

/** The body the aivideoapi upstream posts when `providerTaskId` completes (documents 000, 002). */
export const completedCallbackBody = (providerTaskId: string) => ({
  id: providerTaskId,
  status: "completed",
  model: "nano-banana-2",
  created_at: 1775383908,
  completed_at: 1775383910,
  output: {
    urls: ["https://files.example/abc.png"],
    metadata: { model: "nano-banana-2", costTime: 70 },
  },
});
