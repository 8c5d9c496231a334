import type { Executor, TaskAttempt } from "@ripen/db";
import {
  type AcceptAttemptArgs,
  acceptAttempt,
  acceptAttempts,
  type OpenAttemptArgs,
  openAttempt,
  openAttempts,
} from "./attempts";
import { createGroupCommit, type GroupCommitOptions } from "./group-commit";

export interface AttemptWriter {
  /** Same contract as `openAttempt`. */
  open(args: OpenAttemptArgs): Promise<TaskAttempt | null>;
  /** Same contract as `acceptAttempt`. */
  accept(args: AcceptAttemptArgs): Promise<boolean>;
  /** Groups of more than one written, and those that failed and were retried one by one. */
  readonly stats: {
    open: { batches: number; fallbacks: number };
    accept: { batches: number; fallbacks: number };
  };
}

/**
 * A group must not name one task twice: one statement would update its row once and answer both
 * callers with the same attempt. Two runners of one task in one process are rare (a job re-added
 * while the first still ran); failing the group writes each alone, where one of them wins.
 */
function distinctTasks<T>(items: readonly T[], taskIdOf: (item: T) => string): void {
  if (new Set(items.map(taskIdOf)).size !== items.length) {
    throw new Error("a group names one task twice");
  }
}

/**
 * The worker's attempt writes by group commit (`createGroupCommit`): the opens and accepts of a
 * process's concurrent jobs, which would each be a statement and a commit, are written a group
 * per statement. Every caller gets the answer it would have had alone.
 */
export function createAttemptWriter(db: Executor, options: GroupCommitOptions = {}): AttemptWriter {
  const opens = createGroupCommit<OpenAttemptArgs, TaskAttempt | null>(
    async (items) => {
      distinctTasks(items, (item) => item.task.id);
      return openAttempts(db, items);
    },
    (item) => openAttempt(db, item),
    options,
  );
  const accepts = createGroupCommit<AcceptAttemptArgs, boolean>(
    async (items) => {
      distinctTasks(items, (item) => item.attempt.taskId);
      return acceptAttempts(db, items);
    },
    (item) => acceptAttempt(db, item),
    options,
  );
  return {
    open: (args) => opens.run(args),
    accept: (args) => accepts.run(args),
    stats: { open: opens.stats, accept: accepts.stats },
  };
}
