import {
  type Clock,
  completeTask,
  expiredOutcome,
  listOverdueTasks,
  listStaleActiveTasks,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { TaskQueue } from "@ripen/queue";
import type { Logger } from "pino";

export interface SweepDeps {
  db: Executor;
  taskQueue: TaskQueue;
  clock: Clock;
  logger: Logger;
  /** An active task untouched for this long is checked for live work. */
  graceMs: number;
  batchSize?: number;
}

export interface SweepResult {
  expired: number;
  requeued: number;
}

const liveStates = new Set(["active", "waiting", "delayed", "prioritized", "waiting-children"]);

/**
 * The outbox sweep: expires active tasks past their deadline (refunding them) and re-enqueues
 * active tasks whose job is gone, e.g. after a crash between commit and enqueue.
 */
export async function sweep(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.clock.now();
  const limit = deps.batchSize ?? 500;
  let expired = 0;
  for (const taskId of await listOverdueTasks(deps.db, { now, limit })) {
    const { applied } = await completeTask(deps.db, {
      taskId,
      outcome: expiredOutcome(),
      source: "deadline",
      now,
    });
    if (applied) expired++;
  }

  let requeued = 0;
  const stale = await listStaleActiveTasks(deps.db, {
    olderThan: new Date(now.getTime() - deps.graceMs),
    limit,
  });
  for (const { id } of stale) {
    const job = await deps.taskQueue.queue.getJob(id);
    if (job) {
      const state = await job.getState();
      if (liveStates.has(state)) continue;
      // A finished job keeps its id and would make the add below a no-op.
      await job.remove().catch(() => {});
    }
    await deps.taskQueue.enqueue(id);
    requeued++;
  }
  if (expired || requeued) deps.logger.info({ expired, requeued }, "sweep");
  return { expired, requeued };
}
