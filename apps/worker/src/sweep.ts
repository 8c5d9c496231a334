import {
  type Clock,
  claimOverdueDeliveries,
  claimOverdueWakes,
  endIdleBatches,
  expiredOutcome,
  forgetPollsBefore,
  listOverdueTasks,
  type TaskEnder,
  type TaskOrder,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import type { DeliveryQueue, TaskQueue } from "@ripen/queue";
import type { Logger } from "pino";

export interface SweepDeps {
  db: Executor;
  taskQueue: TaskQueue;
  clock: Clock;
  logger: Logger;
  /** A task whose job should have woken this long ago is checked for live work. */
  graceMs: number;
  /** Tasks claimed per query (500). */
  pageSize?: number;
  /** Tasks one sweep checks at most (20,000); the rest wait for the next sweep, oldest first. */
  maxPerSweep?: number;
  /** How a task ends (expiries here), and what follows the commit: the process's task ender. */
  ender: TaskEnder;
  /** Client callbacks: the sweep re-adds the jobs of pending ones lost. */
  deliveryQueue?: DeliveryQueue;
}

export interface SweepResult {
  /** Tasks past their deadline, ended as expired and refunded by this sweep. */
  expired: number;
  /** Overdue tasks whose job was gone, enqueued again. */
  requeued: number;
  /** Overdue tasks whose job was still there (waiting in a backlog, or running). */
  live: number;
  /** Tasks this sweep could not handle; they are tried again by the next one. */
  failed: number;
  /** Client callbacks whose next try was overdue: present only when the sweep found some. */
  deliveries?: DeliverySweepResult;
}

export interface DeliverySweepResult {
  /** Pending deliveries whose job was gone (Redis restarted empty, say), added again. */
  requeued: number;
  /** Overdue deliveries whose job was still there (waiting in a backlog, or running). */
  live: number;
  failed: number;
}

/**
 * Work whose wake-up is before this is checked for its job: `graceMs` ago normally (a job is
 * added just after its commit); after Redis restarted empty, every active task's and pending
 * delivery's, whenever it wakes, since none has a job any more. Waiting out the grace there
 * stopped a 20,000-task chaos run's starts for 45 s after its Redis restart, and expired 200
 * batch items due soon after.
 */
function claimBefore(deps: SweepDeps, now: Date, options: { redisEmptied?: boolean }): Date {
  if (options.redisEmptied) return new Date(now.getTime() + EVERY_WAKE_MS);
  return new Date(now.getTime() - deps.graceMs);
}
/** Further ahead than any wake-up is set (a delivery's next try is at most 10 h away). */
const EVERY_WAKE_MS = 7 * 24 * 3600_000;

/** How long a poll's record is kept (`provider_polls`). */
const POLLS_KEPT_MS = 3_600_000;

const liveStates = new Set(["active", "waiting", "delayed", "prioritized", "waiting-children"]);
const CHUNK = 25;

/**
 * Runs `fn` over `items`, CHUNK at a time; one item's failure is counted, not thrown. `between`
 * runs after each chunk.
 */
async function eachIsolated<T>(
  items: T[],
  fn: (item: T) => Promise<void>,
  onError: (item: T, error: unknown) => void,
  between?: () => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) {
    await Promise.all(
      items.slice(i, i + CHUNK).map((item) => fn(item).catch((error) => onError(item, error))),
    );
    await between?.();
  }
}

/**
 * The outbox sweep. Expires active tasks past their deadline (refunding them), then finds active
 * tasks whose job should have woken more than `graceMs` ago and re-adds the job of each one that
 * is gone: a crash between commit and enqueue, a Redis that lost its data, a job that ran out of
 * BullMQ attempts. Tasks are claimed oldest wake-up first and each claim moves the wake-up on,
 * so every lost task is reached however many are in flight, and sweeps running at once in
 * several workers split the work instead of repeating it.
 */
export async function sweep(
  deps: SweepDeps,
  options: {
    redisEmptied?: boolean;
    /** Called after every chunk of tasks handled: a long sweep keeps its lease. */
    renew?: () => Promise<void>;
  } = {},
): Promise<SweepResult> {
  const now = deps.clock.now();
  const pageSize = deps.pageSize ?? 500;
  const maxPerSweep = deps.maxPerSweep ?? 20_000;
  const result: SweepResult = { expired: 0, requeued: 0, live: 0, failed: 0 };
  const failed = (taskId: string, error: unknown) => {
    result.failed++;
    deps.logger.error({ taskId, err: error }, "sweep could not handle a task");
  };

  for (let seen = 0; seen < maxPerSweep; ) {
    const overdue = await listOverdueTasks(deps.db, { now, limit: pageSize });
    await eachIsolated(
      overdue,
      async (taskId) => {
        const ended = await deps.ender.end(deps.db, {
          taskId,
          outcome: expiredOutcome(),
          source: "deadline",
          now,
        });
        if (ended.applied) result.expired++;
      },
      failed,
    );
    seen += overdue.length;
    // A page that ended nothing would be read again unchanged: leave it to the next sweep.
    if (overdue.length < pageSize || result.failed > 0) break;
  }

  const before = claimBefore(deps, now, options);
  const recheckAt = new Date(now.getTime() + Math.max(deps.graceMs, 1_000));
  // After Redis was emptied every active task is claimed, nearest deadline first, each once.
  let after: TaskOrder | null | undefined = options.redisEmptied ? null : undefined;
  for (let seen = 0; seen < maxPerSweep; ) {
    const claimed = await claimOverdueWakes(deps.db, { before, recheckAt, limit: pageSize, after });
    if (after !== undefined) after = claimed.at(-1) ?? null;
    await eachIsolated(
      claimed,
      async (task) => {
        const taskId = task.id;
        const state = await deps.taskQueue.queue.getJobState(taskId);
        if (liveStates.has(state)) {
          result.live++;
          return;
        }
        // A finished job keeps its id and would make the add below a no-op.
        if (state === "completed" || state === "failed") await deps.taskQueue.queue.remove(taskId);
        await deps.taskQueue.enqueue(task);
        result.requeued++;
        deps.logger.info({ event: "task.requeued", taskId, jobState: state }, "task requeued");
      },
      (task, error) => failed(task.id, error),
      options.renew,
    );
    seen += claimed.length;
    if (claimed.length < pageSize) break;
  }

  // Batches whose last two items ended at once, each seeing the other still active.
  const idle = await endIdleBatches(deps.db, { now, limit: pageSize });
  if (idle.length > 0) {
    await deps.ender.afterCommit({
      source: "sweep",
      ended: [],
      deliveryIds: idle.flatMap((batch) => (batch.deliveryId ? [batch.deliveryId] : [])),
      endedBatches: idle,
    });
  }

  // No provider's request window reaches back an hour (the registry's longest).
  await forgetPollsBefore(deps.db, new Date(now.getTime() - POLLS_KEPT_MS)).catch((error) =>
    deps.logger.warn({ err: error }, "sweep could not remove old poll records"),
  );

  if (deps.deliveryQueue) {
    const deliveries = await sweepDeliveries(deps, deps.deliveryQueue, now, options);
    if (deliveries.requeued || deliveries.live || deliveries.failed) result.deliveries = deliveries;
  }

  if (result.expired || result.requeued || result.failed || result.deliveries) {
    deps.logger.info(result, "sweep");
  }
  return result;
}

/**
 * The deliveries table is an outbox too: a pending delivery whose next try is more than
 * `graceMs` overdue and whose job is gone (a crash between commit and add, a Redis that lost its
 * data, a callbacks service without Redis, a job that ran out of BullMQ attempts) gets its job
 * again. Claimed oldest first, as tasks are; the job reads its schedule from the delivery's log,
 * so a re-added job that is early simply parks until its try is due.
 */
async function sweepDeliveries(
  deps: SweepDeps,
  queue: DeliveryQueue,
  now: Date,
  options: { redisEmptied?: boolean },
): Promise<DeliverySweepResult> {
  const pageSize = deps.pageSize ?? 500;
  const maxPerSweep = deps.maxPerSweep ?? 20_000;
  const result: DeliverySweepResult = { requeued: 0, live: 0, failed: 0 };
  const before = claimBefore(deps, now, options);
  const recheckAt = new Date(now.getTime() + Math.max(deps.graceMs, 1_000));
  let afterId: string | null | undefined = options.redisEmptied ? null : undefined;
  for (let seen = 0; seen < maxPerSweep; ) {
    const claimed = await claimOverdueDeliveries(deps.db, {
      before,
      recheckAt,
      limit: pageSize,
      afterId,
    });
    if (afterId !== undefined) afterId = claimed.at(-1)?.id ?? null;
    await eachIsolated(
      claimed,
      async (delivery) => {
        const state = await queue.queue.getJobState(delivery.id);
        if (liveStates.has(state)) {
          result.live++;
          return;
        }
        await queue.enqueue(delivery.id);
        result.requeued++;
        deps.logger.info(
          {
            event: "delivery.requeued",
            taskId: delivery.taskId,
            accountId: delivery.accountId,
            deliveryId: delivery.id,
            jobState: state,
          },
          "delivery requeued",
        );
      },
      (delivery, error) => {
        result.failed++;
        deps.logger.error(
          { deliveryId: delivery.id, taskId: delivery.taskId, err: error },
          "sweep could not re-add a delivery",
        );
      },
    );
    seen += claimed.length;
    if (claimed.length < pageSize) break;
  }
  return result;
}
