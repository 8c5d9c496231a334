import { type Executor, isTransaction } from "@ripen/db";
import { afterCommit, type EndingEffects } from "./after-commit";
import {
  type EndTaskArgs,
  type EndTasksArgs,
  endTask,
  endTasks,
  type Settlement,
  type TaskEnding,
} from "./end-task";

/**
 * How every caller ends a task: callers decide *that* it ends, this decides *how*. Built once
 * per process (`createTaskEnder(createTaskEndingEffects(…))`), so the worker, the callbacks
 * service, the sweep and the API end tasks, and schedule their next step, the same way.
 */
export interface TaskEnder {
  /** Ends one task in its own transaction (`endTask`), then runs the after-commit step. */
  end(db: Executor, args: EndTaskArgs): Promise<TaskEnding>;
  /** Ends a group of tasks with one outcome in one transaction (`endTasks`), then the same. */
  endAll(db: Executor, args: EndTasksArgs): Promise<Settlement>;
  /**
   * The after-commit step alone, for an ending committed inside the caller's own transaction
   * (the callback receiver records the callback with it). Call it once that has committed.
   */
  afterCommit(settled: Settlement): Promise<void>;
  /**
   * Runs a task's job now, when something other than its job decided its next step is due.
   * Never throws: a failed wake is logged, and the task's recorded wake-up lets the sweep run it.
   */
  wake(taskId: string): Promise<void>;
}

export function createTaskEnder(effects: EndingEffects): TaskEnder {
  const outsideTransaction = (db: Executor) => {
    // The after-commit step would run before the caller's commit: its jobs would find no rows.
    if (isTransaction(db)) throw new Error("TaskEnder runs its own transaction; use endTask");
  };
  return {
    async end(db, args) {
      outsideTransaction(db);
      const ending = await endTask(db, args);
      await afterCommit(effects, ending);
      return ending;
    },
    async endAll(db, args) {
      outsideTransaction(db);
      const settled = await endTasks(db, args);
      await afterCommit(effects, settled);
      return settled;
    },
    afterCommit: (settled) => afterCommit(effects, settled),
    async wake(taskId) {
      if (!effects.wake) return;
      try {
        await effects.wake(taskId);
      } catch (error) {
        effects.logger.warn(
          { taskId, err: (error as Error)?.message ?? error },
          "task wake failed; the sweep runs it at its recorded wake-up",
        );
      }
    },
  };
}
