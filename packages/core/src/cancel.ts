import type { Executor, Task } from "@ripen/db";
import { TaskAlreadyEnded } from "./errors";
import { completeTask, getTaskForAccount, isActiveStatus, type TaskOutcome } from "./tasks";

export function canceledOutcome(): TaskOutcome {
  return {
    status: "canceled",
    errorCode: "task_canceled",
    errorMessage: "The task was canceled by its owner; its credits were refunded.",
  };
}

/**
 * Ends an account's task as canceled and releases its hold, through `completeTask` like every
 * other ending, so it happens at most once whoever else (callback, poll, deadline) races it.
 * Another account's task is TaskNotFound; a task that has ended, before or during the call, is
 * TaskAlreadyEnded. The caller enqueues the client callback the ending wrote (`deliveryId`)
 * after commit. None of the four upstream dialects documents a cancel, so an attempt in
 * flight is left to finish: its late result is recorded on the attempt and settles nothing.
 */
export async function cancelTask(
  db: Executor,
  args: { accountId: string; taskId: string; source?: string; now: Date },
): Promise<{ task: Task; deliveryId: string | null }> {
  const task = await getTaskForAccount(db, args.accountId, args.taskId);
  if (!isActiveStatus(task.status)) throw new TaskAlreadyEnded(task.id, task.status);
  const result = await completeTask(db, {
    taskId: task.id,
    outcome: canceledOutcome(),
    source: args.source ?? "api",
    now: args.now,
  });
  if (!result.applied || !result.task) {
    throw new TaskAlreadyEnded(task.id, result.task?.status ?? "ended");
  }
  return { task: result.task, deliveryId: result.deliveryId };
}
