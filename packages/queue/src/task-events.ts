import type { RedisConnection } from "@ripen/infra";

/**
 * Live status rides on Redis pub/sub, one channel per task. A message is only a hint ("this
 * task has new `task_events` rows"): streams read the rows themselves from Postgres, so a lost
 * or duplicated message is harmless. Per task rather than one channel for all, so an API process
 * hears only the tasks its clients watch. A batch's id is hinted the same way when one of its
 * items ends (its live progress). The prefix is the queue's (a Cluster hash tag).
 */
export const taskEventsChannel = (prefix: string, taskId: string): string =>
  `${prefix}:task-events:${taskId}`;

/** Publishes ARGV[2] on channel ARGV[1], ARGV[4] on ARGV[3], …: many hints in one command. */
const PUBLISH_EACH =
  "for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end return 0";

export interface TaskNotifier {
  /**
   * Publishes the task's hint. Call it after the transition's transaction has committed. Never
   * rejects and settles within the notifier's timeout: a failed hint must not fail task work.
   */
  taskChanged(taskId: string): Promise<void>;
  /** `taskChanged` for many tasks, in one pipeline. */
  tasksChanged(taskIds: readonly string[]): Promise<void>;
}

export interface TaskNotifierOptions {
  /** Told of each hint that could not be published (Redis away, slow, refusing). */
  onError?(error: unknown, taskId: string): void;
  /** Longest a publish may hold its caller (1,000 ms); it is left to finish on its own. */
  timeoutMs?: number;
}

/**
 * The publishing side, for whoever commits transitions (worker, callbacks, sweep, API). While
 * the connection is not ready the hint is dropped rather than queued: nothing grows during a
 * Redis outage, and the streams' periodic re-read covers what they missed.
 */
export function createTaskNotifier(
  redis: RedisConnection,
  prefix: string,
  options: TaskNotifierOptions = {},
): TaskNotifier {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const report = (error: unknown, taskId: string) => {
    try {
      options.onError?.(error, taskId);
    } catch {
      // A logger that throws must not fail the caller either.
    }
  };
  async function tasksChanged(taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    if (redis.status !== "ready") {
      const error = new Error(`redis is ${redis.status}; live-status hint dropped`);
      for (const taskId of taskIds) report(error, taskId);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    // One command for a group's hints (an ending of many tasks). Not a pipeline: building one
    // copies every script defined on the connection, BullMQ's dozens included.
    const published =
      taskIds.length === 1
        ? redis.publish(taskEventsChannel(prefix, taskIds[0]!), taskIds[0]!)
        : redis.eval(
            PUBLISH_EACH,
            0,
            ...taskIds.flatMap((taskId) => [taskEventsChannel(prefix, taskId), taskId]),
          );
    try {
      await Promise.race([
        published,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`publish did not finish in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      for (const taskId of taskIds) report(error, taskId);
    } finally {
      clearTimeout(timer);
      published.catch(() => {});
    }
  }
  // Hints asked for in the same turn of the event loop (a worker's concurrent jobs) share one
  // pipeline: one write to Redis instead of one each.
  let pending: { taskIds: string[]; sent: Promise<void> } | null = null;
  function taskChanged(taskId: string): Promise<void> {
    if (!pending) {
      const next = { taskIds: [] as string[], sent: Promise.resolve() };
      next.sent = new Promise<void>((resolve) =>
        setImmediate(() => {
          pending = null;
          void tasksChanged(next.taskIds).then(resolve);
        }),
      );
      pending = next;
    }
    pending.taskIds.push(taskId);
    return pending.sent;
  }
  return { taskChanged, tasksChanged };
}

export interface TaskEventSubscriber {
  /**
   * Calls `onHint` for each message on the task's channel until the returned function is called.
   * Watchers of one task share one SUBSCRIBE; `subscribed` settles once Redis confirmed it (or
   * could not: it never rejects).
   */
  watch(taskId: string, onHint: () => void): { subscribed: Promise<void>; stop(): Promise<void> };
  /** Channels subscribed now (one per watched task), for metrics and tests. */
  readonly channels: number;
}

export interface TaskEventSubscriberOptions {
  onError?(error: unknown, taskId: string): void;
}

/**
 * The listening side: one subscriber connection per API process, fanned out to every stream
 * (the connection is in subscriber mode and can be used for nothing else). SUBSCRIBE and
 * UNSUBSCRIBE are sent in order on that one connection, so watching, stopping and watching again
 * cannot leave a channel in the wrong state; ioredis subscribes again after a reconnect. On a
 * Redis Cluster this is classic pub/sub: ioredis keeps the subscription on one node, and the
 * cluster bus brings every PUBLISH, sent to whichever node, to it.
 */
export function createTaskEventSubscriber(
  redis: RedisConnection,
  prefix: string,
  options: TaskEventSubscriberOptions = {},
): TaskEventSubscriber {
  const listeners = new Map<string, Set<() => void>>();
  const report = (error: unknown, taskId: string) => {
    try {
      options.onError?.(error, taskId);
    } catch {}
  };
  redis.on("message", (channel: string) => {
    const watching = listeners.get(channel);
    if (!watching) return;
    for (const onHint of watching) onHint();
  });

  return {
    watch(taskId, onHint) {
      const channel = taskEventsChannel(prefix, taskId);
      let watching = listeners.get(channel);
      let subscribed: Promise<void> = Promise.resolve();
      if (!watching) {
        watching = new Set();
        listeners.set(channel, watching);
        subscribed = redis.subscribe(channel).then(
          () => {},
          (error) => report(error, taskId),
        );
      }
      watching.add(onHint);
      let stopped = false;
      return {
        subscribed,
        async stop() {
          if (stopped) return;
          stopped = true;
          const current = listeners.get(channel);
          if (!current) return;
          current.delete(onHint);
          if (current.size > 0) return;
          listeners.delete(channel);
          await redis.unsubscribe(channel).then(
            () => {},
            (error) => report(error, taskId),
          );
        },
      };
    },
    get channels() {
      return listeners.size;
    },
  };
}
