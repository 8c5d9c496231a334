import type { Task } from "@ripen/db";
import type { EnqueueDelivery } from "../deliveries";
import { type LifecycleLogger, logTaskEnded } from "../lifecycle-log";
import type { TaskOrder } from "../tasks";
import type { Settlement } from "./end-task";

/**
 * What a process can do once an ending has committed, built once per process from its Redis
 * connection (`createTaskEndingEffects` in `@ripen/queue`). Each is optional because a process
 * may run without Redis (the callbacks service may): what is missing is left to the sweep and to
 * live-status streams' re-reads. Each takes a whole group of endings: one Redis write for many.
 */
export interface EndingEffects {
  logger: LifecycleLogger;
  /**
   * Tells live-status streams the tasks have new events, and live batch streams that the
   * batches' counts moved: ids of both kinds, one hint each (never rejects).
   */
  notify?(ids: readonly string[]): Promise<void>;
  /** Frees the tasks' in-flight slots at their providers (those that count them). */
  releaseSlots?(holders: readonly { providerId: string; taskId: string }[]): Promise<void>;
  /** Takes the ended tasks out of the providers' backlogs (admission's and the rate windows'). */
  leaveBacklogs?(taskIds: readonly string[]): Promise<void>;
  /** Removes the ended tasks' parked jobs (never rejects). */
  forgetJobs?(taskIds: readonly string[]): Promise<void>;
  /** Adds a committed client callback's job. */
  enqueueDelivery?: EnqueueDelivery;
  /**
   * Keeps how long the generations of succeeded tasks took (`generationMsOf`), per provider and
   * model: the worker's first poll of the next tasks waits that long.
   */
  recordGenerations?(
    samples: readonly { providerId: string; model: string; ms: number }[],
  ): Promise<void>;
  /** Runs a task's job now: its next step is due (a failover decided outside the worker). */
  wake?(task: TaskOrder): Promise<void>;
}

/**
 * The one step after an ending commits, whoever ended the task: the live-status hints, the
 * client callbacks' jobs, the provider slots, the parked jobs, the batch's line and the task's.
 * Never throws: the ending is committed, and each thing here is covered by something else if it
 * fails (the sweep re-adds a pending delivery, streams re-read, a slot's lease runs out, a parked
 * job finds its task ended). Must not run inside the transaction: a delivery job that ran before
 * the commit would find no row.
 */
export async function afterCommit(effects: EndingEffects, settled: Settlement): Promise<void> {
  const { logger } = effects;
  const warn = (what: string, fields: object) => (error: unknown) =>
    logger.warn({ ...fields, err: (error as Error)?.message ?? error }, what);
  const taskIds = settled.ended.map((task) => task.id);
  const holders = settled.ended.flatMap((task) =>
    task.provider ? [{ providerId: task.provider, taskId: task.id }] : [],
  );
  // An item's ending changes its batch's counts: the batch's live progress is hinted with it.
  const hinted = [
    ...new Set([
      ...taskIds,
      ...settled.ended.flatMap((task) => (task.batchId ? [task.batchId] : [])),
      ...settled.endedBatches.map((batch) => batch.batchId),
    ]),
  ];
  const generations = settled.ended.flatMap((task) => {
    const ms = generationMsOf(task, settled.source);
    return ms === undefined || !task.provider
      ? []
      : [{ providerId: task.provider, model: task.model, ms }];
  });
  const { notify, enqueueDelivery, releaseSlots, leaveBacklogs, forgetJobs, recordGenerations } =
    effects;
  await Promise.all([
    hinted.length > 0 && notify?.(hinted),
    holders.length > 0 &&
      releaseSlots?.(holders).catch(
        warn("provider slots not released; their leases will", { tasks: taskIds.length }),
      ),
    taskIds.length > 0 &&
      leaveBacklogs?.(taskIds).catch(
        warn("backlog places not removed; their deadlines will", { tasks: taskIds.length }),
      ),
    taskIds.length > 0 && forgetJobs?.(taskIds),
    generations.length > 0 &&
      recordGenerations?.(generations).catch(
        warn("generation times not kept; first polls come sooner", { tasks: generations.length }),
      ),
    ...(enqueueDelivery
      ? settled.deliveryIds.map((deliveryId) =>
          enqueueDelivery(deliveryId).catch(
            warn("delivery enqueue failed; left to the sweep", { deliveryId }),
          ),
        )
      : []),
  ]);
  for (const batch of settled.endedBatches) {
    logger.info(
      { event: "batch.ended", batchId: batch.batchId, state: batch.state, source: settled.source },
      `batch ${batch.state}`,
    );
  }
  for (const task of settled.ended) logTaskEnded(logger, task, settled.source);
}

/**
 * How long a succeeded task's generation took, from its accept: until its callback came, or,
 * ended by a poll, until the time the upstream's status said it finished (nanobanana's
 * `completed_at`, kept as `output.metadata.completedAt`), never later than the poll that found it.
 * Not the poll's own time: a poll finds a generation later than it ended, by as much as the wait
 * before that poll, which the figure itself sets; learning from that would feed on itself.
 */
function generationMsOf(task: Task, source: string): number | undefined {
  if (task.status !== "succeeded" || !task.submittedAt || !task.completedAt) return undefined;
  const acceptedMs = task.submittedAt.getTime();
  const seenMs = task.completedAt.getTime() - acceptedMs;
  if (source === "callback") return seenMs;
  if (source !== "poll") return undefined;
  const finished = task.output?.metadata?.completedAt;
  const finishedMs = typeof finished === "string" ? Date.parse(finished) : Number.NaN;
  if (!Number.isFinite(finishedMs)) return undefined;
  // The upstream's clock is not ours: a skew may move it, within what the poll saw.
  return Math.min(seenMs, Math.max(0, finishedMs - acceptedMs));
}
