import type { Executor } from "@ripen/db";
import { createGroupCommit, type GroupCommitOptions } from "./group-commit";
import {
  type CreatedTask,
  type CreateTaskArgs,
  type PreparedTask,
  prepareTask,
  writeTask,
  writeTasks,
} from "./task-create";

export type TaskWriterOptions = GroupCommitOptions;

export interface TaskWriter {
  /** Same contract as `createTask`: validates, prices, holds and inserts, or throws. */
  create(args: CreateTaskArgs): Promise<CreatedTask>;
  /** Writes a task `prepareTask` already validated and priced (the door's admission needs it first). */
  write(prepared: PreparedTask): Promise<CreatedTask>;
  /** Statements of several tasks written, and those that failed and were retried one by one. */
  readonly stats: { batches: number; fallbacks: number };
}

/**
 * Creates written by group commit (`createGroupCommit`): many clients of one account, whose
 * creates would otherwise queue on its row one commit at a time, are served at the rate the disk
 * commits groups. A group that fails (an account short of credit) is retried one task at a time
 * through `writeTask`, so every request gets exactly the answer it would have had alone.
 */
export function createTaskWriter(db: Executor, options: TaskWriterOptions = {}): TaskWriter {
  const group = createGroupCommit<PreparedTask, CreatedTask>(
    async (prepared) => {
      const written = new Map((await writeTasks(db, prepared)).map((task) => [task.id, task]));
      return prepared.map((task) => {
        const created = written.get(task.id);
        if (!created) throw new Error(`task ${task.id} was not written`);
        return created;
      });
    },
    (task) => writeTask(db, task),
    // Two in flight: each client waits for its create's commit, and the next group's is written
    // while this one's flushes (one account's creates, one pair of bench runs: 1,601 a second
    // with two, 1,355 with one).
    { maxInFlight: 2, ...options },
  );
  return {
    stats: group.stats,
    // Validation and pricing fail here, for this request alone.
    create: async (args) => group.run(prepareTask(args)),
    write: (prepared) => group.run(prepared),
  };
}
