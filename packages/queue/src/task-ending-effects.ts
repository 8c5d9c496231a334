import type { EndingEffects, LifecycleLogger } from "@ripen/core";
import type { TaskNotifier } from "./task-events";

export interface TaskEndingEffectsOptions {
  logger: LifecycleLogger;
  /**
   * The process's Redis side; absent in a process running without Redis (the callbacks service
   * may), whose endings then leave their jobs to the sweep and their hints to streams' re-reads.
   */
  redis?: {
    /** `createTaskQueue(…)`: its `wake` runs a task's job now. */
    taskQueue: { wake(taskId: string): Promise<void> };
    /** `createDeliveryQueue(…)`: adds a client callback's job. */
    deliveryQueue: { enqueue(deliveryId: string): Promise<void> };
    notifier: TaskNotifier;
    /** Frees a provider's in-flight slot: `createProviderHealth(…).releaseSlot`. */
    releaseSlot(providerId: string, taskId: string): Promise<void>;
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
  return {
    logger,
    notify: (taskId) => redis.notifier.taskChanged(taskId),
    releaseSlot: (providerId, taskId) => redis.releaseSlot(providerId, taskId),
    enqueueDelivery: (deliveryId) => redis.deliveryQueue.enqueue(deliveryId),
    wake: (taskId) => redis.taskQueue.wake(taskId),
  };
}
