import { type Executor, isTransaction } from "@ripen/db";
import { createGroupCommit, type GroupCommit, type GroupCommitOptions } from "../group-commit";
import type { TaskOrder } from "../tasks";
import { afterCommit, type EndingEffects } from "./after-commit";
import {
  type EndGroupArgs,
  type EndTaskArgs,
  endGroup,
  type Settlement,
  type TaskEnding,
} from "./end-task";

/**
 * How every caller ends a task: callers decide *that* it ends, this decides *how*. Built once
 * per process (`createTaskEnder(createTaskEndingEffects(…))`), so the worker, the callbacks
 * service, the sweep and the API end tasks, and schedule their next step, the same way.
 */
export interface TaskEnder {
  /**
   * Ends one task, then runs the after-commit step. Endings that arrive together are settled
   * together, one transaction for the group (group commit), each answered as if alone.
   */
  end(db: Executor, args: EndTaskArgs): Promise<TaskEnding>;
  /** Ends a group of tasks in one transaction (`endGroup`), then the after-commit step. */
  endAll(db: Executor, args: EndGroupArgs): Promise<Settlement>;
  /**
   * The after-commit step alone, for an ending committed inside the caller's own transaction.
   * Call it once that has committed.
   */
  afterCommit(settled: Settlement): Promise<void>;
  /**
   * Runs a task's job now, when something other than its job decided its next step is due.
   * Never throws: a failed wake is logged, and the task's recorded wake-up lets the sweep run it.
   */
  wake(task: TaskOrder): Promise<void>;
  /** Groups of more than one ending settled together, and groups that fell back to one by one. */
  readonly stats: { batches: number; fallbacks: number };
  /** Resolves once every after-commit step run behind (`effectsBehind`) has finished. */
  drain(): Promise<void>;
}

export interface TaskEnderOptions extends GroupCommitOptions {
  /**
   * `end` and `endAll` answer once the ending commits, and its after-commit step runs behind
   * them (`drain` awaits it). For the callbacks service: a provider's callback is answered as
   * soon as what it reported is kept, without its Redis round trip. A step that fails is logged,
   * and what it would have done is covered as when it fails awaited (or the process dies first).
   */
  effectsBehind?: boolean;
}

type Ending = Omit<EndTaskArgs, "source" | "now" | "batchItem"> & { now: Date };

export function createTaskEnder(effects: EndingEffects, options: TaskEnderOptions = {}): TaskEnder {
  const outsideTransaction = (db: Executor) => {
    // The after-commit step would run before the caller's commit: its jobs would find no rows.
    if (isTransaction(db)) throw new Error("TaskEnder runs its own transaction; use endGroup");
  };
  const behind = new Set<Promise<void>>();
  const endAll = async (db: Executor, args: EndGroupArgs) => {
    const ended = await endGroup(db, args);
    const step = afterCommit(effects, ended.settlement);
    if (!options.effectsBehind) await step;
    else {
      // Nobody awaits it: a failure is logged here rather than left unhandled.
      const running = step.catch((error: unknown) =>
        effects.logger.warn(
          { err: (error as Error)?.message ?? error, source: args.source },
          "after-commit step failed",
        ),
      );
      behind.add(running);
      void running.finally(() => behind.delete(running));
    }
    return ended;
  };
  // One group per database, source and lane: the source is the group's (its events' and log
  // lines'). Batch items have a lane of their own: behind a batch's group of 64 endings, an
  // interactive task's callback waited 135 ms (p50) where it took 32 alone (bench phase f).
  const groups = new WeakMap<Executor, Map<string, GroupCommit<Ending, TaskEnding>>>();
  const all: GroupCommit<Ending, TaskEnding>[] = [];
  const groupOf = (db: Executor, source: string, batchItem: boolean) => {
    const byLane = groups.get(db) ?? new Map<string, GroupCommit<Ending, TaskEnding>>();
    groups.set(db, byLane);
    const lane = `${source}${batchItem ? " (batch)" : ""}`;
    let group = byLane.get(lane);
    if (!group) {
      // Two endings of one task cannot share a statement: the group fails and each goes alone.
      // Endings that arrive together are settled at the latest of their times.
      const write = async (endings: Ending[]) => {
        const now = new Date(Math.max(...endings.map((ending) => ending.now.getTime())));
        return (await endAll(db, { endings, source, now })).each;
      };
      group = createGroupCommit(write, async (ending) => (await write([ending]))[0]!, options);
      byLane.set(lane, group);
      all.push(group);
    }
    return group;
  };
  return {
    async end(db, { source, now, batchItem, ...ending }) {
      outsideTransaction(db);
      return groupOf(db, source, batchItem ?? false).run({ ...ending, now: now ?? new Date() });
    },
    async endAll(db, args) {
      outsideTransaction(db);
      return (await endAll(db, args)).settlement;
    },
    afterCommit: (settled) => afterCommit(effects, settled),
    async drain() {
      await Promise.all(behind);
    },
    get stats() {
      const sum = (key: "batches" | "fallbacks") =>
        all.reduce((total, group) => total + group.stats[key], 0);
      return { batches: sum("batches"), fallbacks: sum("fallbacks") };
    },
    async wake(task) {
      if (!effects.wake) return;
      try {
        await effects.wake(task);
      } catch (error) {
        effects.logger.warn(
          { taskId: task.id, err: (error as Error)?.message ?? error },
          "task wake failed; the sweep runs it at its recorded wake-up",
        );
      }
    },
  };
}
