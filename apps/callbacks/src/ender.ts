import { createTaskEnder, type LifecycleLogger, type TaskEnder } from "@ripen/core";
import {
  backlogLeaver,
  createProviderHealth,
  type ProviderHealth,
  type Providers,
} from "@ripen/providers";
import {
  countsSlotsOf,
  createDeliveryQueue,
  createTaskEndingEffects,
  createTaskNotifier,
  createTaskQueue,
  type RedisConnection,
} from "@ripen/queue";

/**
 * The callbacks service's task ender, from its Redis connection when it has one: the same
 * effects as every other process's, the wake included, so a failover decided on a provider's
 * callback runs the task's next attempt at once rather than at its next poll. Its provider
 * health goes to the app too: a callback reporting a success ends its provider's failures in a
 * row. Without Redis, endings leave their jobs to the worker's sweep.
 */
export function createCallbacksEnder(options: {
  logger: LifecycleLogger;
  redis?: { connection: RedisConnection; prefix: string };
  /** Only providers that count tasks in flight have a slot to free; all, when not given. */
  providers?: Providers;
}): { ender: TaskEnder; health?: ProviderHealth; close(): Promise<void> } {
  const { logger, redis, providers } = options;
  if (!redis)
    return { ender: createTaskEnder(createTaskEndingEffects({ logger })), close: async () => {} };
  const ctx = { connection: redis.connection, prefix: redis.prefix };
  const taskQueue = createTaskQueue(ctx);
  const deliveryQueue = createDeliveryQueue(ctx);
  const notifier = createTaskNotifier(redis.connection, redis.prefix, {
    onError: (error, taskId) =>
      logger.warn({ err: (error as Error).message, taskId }, "live-status hint not sent"),
  });
  const health = createProviderHealth(redis.connection, redis.prefix);
  const effects = createTaskEndingEffects({
    logger,
    redis: {
      taskQueue,
      deliveryQueue,
      notifier,
      releaseSlot: health.releaseSlot,
      recordGenerations: health.generations.record,
      countsSlots: providers ? countsSlotsOf(providers) : undefined,
      leaveBacklogs: providers ? backlogLeaver(health, providers.list) : undefined,
    },
  });
  // A provider's callback is answered once its ending commits; the Redis effects follow.
  const ender = createTaskEnder(effects, { effectsBehind: true });
  return {
    ender,
    health,
    async close() {
      await ender.drain();
      await Promise.all([taskQueue.close(), deliveryQueue.close()]);
    },
  };
}
