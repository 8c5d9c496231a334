import type { Executor, Task } from "@ripen/db";
import { TaskAlreadyEnded } from "./errors";
import { canceledOutcome } from "./task-ending/outcomes";
import type { TaskEnder } from "./task-ending/task-ender";
import { isActiveStatus } from "./task-machine";
import { getTaskForAccount } from "./tasks";

/**
 * Ends an account's task as canceled and releases its hold, through the task ender like every
 * other ending, so it happens at most once whoever else (callback, poll, deadline) races it.
 * Another account's task is TaskNotFound; a task that has ended, before or during the call, is
 * TaskAlreadyEnded. None of the four upstream dialects documents a cancel, so an attempt in
 * flight is left to finish: its late result is recorded on the attempt and settles nothing.
 */
export async function cancelTask(
  db: Executor,
  ender: TaskEnder,
  args: { accountId: string; taskId: string; source?: string; now: Date },
): Promise<Task> {
  const task = await getTaskForAccount(db, args.accountId, args.taskId);
  if (!isActiveStatus(task.status)) throw new TaskAlreadyEnded(task.id, task.status);
  const ending = await ender.end(db, {
    taskId: task.id,
    outcome: canceledOutcome(),
    source: args.source ?? "api",
    now: args.now,
  });
  if (!ending.applied || !ending.task) {
    throw new TaskAlreadyEnded(task.id, ending.task?.status ?? "ended");
  }
  return ending.task;
}
