import type { EndingEffects, LifecycleLogger, TaskOrder } from "@ripen/core";
import type { TaskNotifier } from "./task-events";

export interface TaskEndingEffectsOptions {
  logger: LifecycleLogger;
  /**
   * The process's Redis side; absent in a process running without Redis (the callbacks service
   * may), whose endings then leave their jobs to the sweep and their hints to streams' re-reads.
   */
  redis?: {
    /**
     * `createTaskQueue(…)`: its `wake` runs a task's job now; its `forget` removes ended tasks'
     * parked jobs.
     */
    taskQueue: {
      wake(task: TaskOrder): Promise<void>;
      forget(taskIds: readonly string[]): Promise<void>;
    };
    /** `createDeliveryQueue(…)`: adds a client callback's job. */
    deliveryQueue: { enqueue(deliveryId: string): Promise<void> };
    notifier: TaskNotifier;
    /** Frees a provider's in-flight slot: `createProviderHealth(…).releaseSlot`. */
    releaseSlot(providerId: string, taskId: string): Promise<void>;
    /**
     * Whether the provider counts tasks in flight (one with limits): only those have a slot to
     * free. Every provider, when not given.
     */
    countsSlots?(providerId: string): boolean;
    /**
     * Takes the ended tasks out of every provider's backlog (`backlogLeaver` of
     * `@ripen/providers`); without it an entry stays until its task's deadline.
     */
    leaveBacklogs?(taskIds: readonly string[]): Promise<void>;
    /**
     * Whether the ended tasks' parked jobs are removed (by default): endings from outside the
     * tasks' own jobs (callbacks, cancels) would otherwise leave a poll to run for nothing. The
     * worker's endings are decided inside the job, which finishes by itself.
     */
    forgetsJobs?: boolean;
    /** Keeps generation times: `createProviderHealth(…).generations.record`. */
    recordGenerations?: EndingEffects["recordGenerations"];
  };
}

/**
 * What follows a task's ending, for `createTaskEnder` (`@ripen/core`): the one factory every
 * process (worker, sweep, callbacks service, API) builds its effects with, once, so none of them
 * lacks one. Each effect is a closure over its owner, safe to pass around detached.
 */
export function createTaskEndingEffects(options: TaskEndingEffectsOptions): EndingEffects {
  const { redis, logger } = options;
  if (!redis) return { logger };
  const countsSlots = redis.countsSlots ?? (() => true);
  return {
    logger,
    notify: (taskIds) => redis.notifier.tasksChanged(taskIds),
    releaseSlots: async (holders) => {
      await Promise.all(
        holders
          .filter((holder) => countsSlots(holder.providerId))
          .map((holder) => redis.releaseSlot(holder.providerId, holder.taskId)),
      );
    },
    leaveBacklogs: redis.leaveBacklogs,
    forgetJobs:
      redis.forgetsJobs === false ? undefined : (taskIds) => redis.taskQueue.forget(taskIds),
    enqueueDelivery: (deliveryId) => redis.deliveryQueue.enqueue(deliveryId),
    wake: (task) => redis.taskQueue.wake(task),
    recordGenerations: redis.recordGenerations,
  };
}

/**
 * `countsSlots` from the process's providers: those with limits, which count the tasks they hold
 * in flight (`maxConcurrent` caps them; admission reads them for a request budget).
 */
export const countsSlotsOf =
  (providers: {
    get(id: string): { limits: { maxConcurrent?: number; requestsPerMinute?: number } } | undefined;
  }) =>
  (providerId: string): boolean => {
    const limits = providers.get(providerId)?.limits;
    return limits?.maxConcurrent !== undefined || limits?.requestsPerMinute !== undefined;
  };
