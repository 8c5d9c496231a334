import type { Executor } from "@ripen/db";
import {
  attemptKey,
  findTaskAndLatestAttempt,
  findTasksAndLatestAttempts,
  findTasksWithAttempts,
  findTaskWithAttempt,
  type TaskAndAttempt,
} from "./attempts";
import { createGroupCommit } from "./group-commit";

/**
 * The reads every step of a task starts with, in groups (`createGroupCommit`): a worker's
 * concurrent jobs, or a burst of provider callbacks, read their tasks in one statement instead of
 * one round trip each. Each statement starts after every read in it was asked, so no read
 * returns a state older than the moment it was asked for.
 */
export interface TaskReader {
  /** The task and its latest attempt: what a run of the task's job reads first. */
  withLatestAttempt(taskId: string): Promise<TaskAndAttempt | null>;
  /** The task and the attempt a callback names (null when it has no such attempt). */
  withAttempt(taskId: string, number: number): Promise<TaskAndAttempt | null>;
  /** Reads of several tasks in one statement, and those that failed and were read one by one. */
  readonly stats: { batches: number; fallbacks: number };
}

export function createTaskReader(db: Executor): TaskReader {
  const latest = createGroupCommit<string, TaskAndAttempt | null>(
    async (taskIds) => {
      const found = await findTasksAndLatestAttempts(db, taskIds);
      return taskIds.map((taskId) => found.get(taskId) ?? null);
    },
    (taskId) => findTaskAndLatestAttempt(db, taskId),
  );
  const named = createGroupCommit<{ taskId: string; number: number }, TaskAndAttempt | null>(
    async (wanted) => {
      const found = await findTasksWithAttempts(db, wanted);
      return wanted.map((w) => found.get(attemptKey(w.taskId, w.number)) ?? null);
    },
    (w) => findTaskWithAttempt(db, w.taskId, w.number),
  );
  return {
    get stats() {
      return {
        batches: latest.stats.batches + named.stats.batches,
        fallbacks: latest.stats.fallbacks + named.stats.fallbacks,
      };
    },
    withLatestAttempt: (taskId) => latest.run(taskId),
    withAttempt: (taskId, number) => named.run({ taskId, number }),
  };
}
