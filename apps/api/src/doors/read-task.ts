import { getTaskForAccount, isIdOf, type Principal, TaskNotFound } from "@ripen/core";
import type { Executor, Task } from "@ripen/db";

/**
 * The caller's task of that id, whichever door it came through; TaskNotFound for another
 * account's task, and, without a query, for anything Ripen's ids could not be.
 */
export async function readTask(db: Executor, principal: Principal, taskId: string): Promise<Task> {
  if (!isIdOf("task", taskId)) throw new TaskNotFound(taskId);
  return getTaskForAccount(db, principal.accountId, taskId);
}
