import type { EnqueueDelivery } from "../deliveries";
import { type LifecycleLogger, logTaskEnded } from "../lifecycle-log";
import type { Settlement } from "./end-task";

/**
 * What a process can do once an ending has committed, built once per process from its Redis
 * connection (`createTaskEndingEffects` in `@ripen/queue`). Each is optional because a process
 * may run without Redis (the callbacks service may): what is missing is left to the sweep and to
 * live-status streams' re-reads.
 */
export interface EndingEffects {
  logger: LifecycleLogger;
  /** Tells live-status streams the task has new events (a hint; never rejects). */
  notify?(taskId: string): Promise<void>;
  /** Frees the task's in-flight slot at its provider. */
  releaseSlot?(providerId: string, taskId: string): Promise<void>;
  /** Adds a committed client callback's job. */
  enqueueDelivery?: EnqueueDelivery;
  /** Runs a task's job now: its next step is due (a failover decided outside the worker). */
  wake?(taskId: string): Promise<void>;
}

/** Hints and slot releases run this many at a time (a batch's cancel ends thousands). */
const CONCURRENCY = 100;

async function eachOf<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(items.slice(i, i + CONCURRENCY).map(fn));
  }
}

/**
 * The one step after an ending commits, whoever ended the task: the live-status hint, the client
 * callbacks' jobs, the provider slot, the batch's line and the task's. Never throws: the ending
 * is committed, and each thing here is covered by something else if it fails (the sweep re-adds
 * a pending delivery, streams re-read, a slot's lease runs out). Must not run inside the
 * transaction: a delivery job that ran before the commit would find no row.
 */
export async function afterCommit(effects: EndingEffects, settled: Settlement): Promise<void> {
  const { logger } = effects;
  const warn = (what: string, fields: object) => (error: unknown) =>
    logger.warn({ ...fields, err: (error as Error)?.message ?? error }, what);

  const { notify, enqueueDelivery, releaseSlot } = effects;
  if (notify) {
    await eachOf(settled.ended, (task) =>
      notify(task.id).catch(warn("live-status hint not sent", { taskId: task.id })),
    );
  }
  if (enqueueDelivery) {
    for (const deliveryId of settled.deliveryIds) {
      await enqueueDelivery(deliveryId).catch(
        warn("delivery enqueue failed; left to the sweep", { deliveryId }),
      );
    }
  }
  if (releaseSlot) {
    const holders = [...settled.ended, ...(settled.seenEnded ?? [])].filter((t) => t.provider);
    await eachOf(holders, (task) =>
      releaseSlot(task.provider!, task.id).catch(
        warn("provider slot not released; its lease will", { taskId: task.id }),
      ),
    );
  }
  for (const batch of settled.endedBatches) {
    logger.info(
      { event: "batch.ended", batchId: batch.batchId, state: batch.state, source: settled.source },
      `batch ${batch.state}`,
    );
  }
  for (const task of settled.ended) logTaskEnded(logger, task, settled.source);
}
