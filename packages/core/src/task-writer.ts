import type { Executor } from "@ripen/db";
import {
  type CreatedTask,
  type CreateTaskArgs,
  type PreparedTask,
  prepareTask,
  writeTask,
  writeTasks,
} from "./task-create";

export interface TaskWriterOptions {
  /** Most tasks in one statement (64). */
  maxBatch?: number;
  /** Statements in flight at once (2): one is written while the next batch gathers. */
  maxInFlight?: number;
}

export interface TaskWriter {
  /** Same contract as `createTask`: validates, prices, holds and inserts, or throws. */
  create(args: CreateTaskArgs): Promise<CreatedTask>;
  /** Statements of several tasks written, and those that failed and were retried one by one. */
  readonly stats: { batches: number; fallbacks: number };
}

interface Pending {
  task: PreparedTask;
  resolve(task: CreatedTask): void;
  reject(error: unknown): void;
}

/**
 * Group commit for creates. Requests that arrive while a statement is in flight are written
 * together by the next one: one account-row lock and one commit (one WAL flush) for the batch
 * instead of one each. That is what lets many clients of one account, whose creates would
 * otherwise queue on its row, be served at the rate the disk commits batches. A batch that fails
 * (an account short of credit, a lost connection) is retried one task at a time through
 * `writeTask`, so every request gets exactly the answer it would have had alone.
 */
export function createTaskWriter(db: Executor, options: TaskWriterOptions = {}): TaskWriter {
  const maxBatch = options.maxBatch ?? 64;
  const maxInFlight = options.maxInFlight ?? 2;
  const waiting: Pending[] = [];
  let inFlight = 0;
  const stats = { batches: 0, fallbacks: 0 };
  const writeAlone = (p: Pending) => writeTask(db, p.task).then(p.resolve, p.reject);

  async function write(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return writeAlone(batch[0]!);
    stats.batches++;
    let written: CreatedTask[];
    try {
      written = await writeTasks(
        db,
        batch.map((p) => p.task),
      );
    } catch {
      stats.fallbacks++;
      // Which task caused it is unknown: each one alone gets its own answer.
      await Promise.all(batch.map(writeAlone));
      return;
    }
    const byId = new Map(written.map((task) => [task.id, task]));
    for (const pending of batch) {
      const task = byId.get(pending.task.id);
      if (task) pending.resolve(task);
      else pending.reject(new Error(`task ${pending.task.id} was not written`));
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, maxBatch);
      inFlight++;
      void write(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    stats,
    async create(args) {
      // Validation and pricing fail here, for this request alone.
      const task = prepareTask(args);
      return new Promise<CreatedTask>((resolve, reject) => {
        waiting.push({ task, resolve, reject });
        pump();
      });
    },
  };
}
