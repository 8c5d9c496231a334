import type { TaskOrder } from "@ripen/core";
import { connectRedis, type RedisConnection, type RedisConnectionOptions } from "@ripen/infra";
import { queueTelemetry } from "@ripen/telemetry";
import {
  type BackoffStrategy,
  Backoffs,
  type JobsOptions,
  Queue,
  type WorkerOptions,
} from "bullmq";
import { z } from "zod";

export type { RedisConnection } from "@ripen/infra";

export {
  type CronProblem,
  cronProblem,
  latestFireAtOrBefore,
  nextFireAfter,
} from "./cron";
export {
  countsSlotsOf,
  createTaskEndingEffects,
  type TaskEndingEffectsOptions,
} from "./task-ending-effects";
export {
  createTaskEventSubscriber,
  createTaskNotifier,
  type TaskEventSubscriber,
  type TaskEventSubscriberOptions,
  type TaskNotifier,
  type TaskNotifierOptions,
  taskEventsChannel,
} from "./task-events";

import { type QueueName, queueNames } from "./queue-names";
import { stepPriority } from "./step-order";

export {
  createQueueLoadReader,
  type QueueLoad,
  startQueuePaceMeter,
} from "./queue-load";
export { type QueueName, queueNames } from "./queue-names";
export { STARTED_TASK_PRIORITY, stepPriority } from "./step-order";

interface JobDefinition {
  queue: QueueName;
  schema: z.ZodType;
  /** Stored in each job: kept short, since Redis holds one job per task in flight. */
  options: JobsOptions;
  /**
   * A run that threw is retried after this, doubled each time, with up to half taken off
   * (BullMQ's exponential backoff, applied by `catalogBackoff`).
   */
  retryDelayMs?: number;
}

/**
 * The backoff each retried job stores: a name for `catalogBackoff`, not the whole policy, which
 * cost 24 more bytes of Redis per task in flight.
 */
const CATALOG_BACKOFF = { type: "catalog" } as const;

/**
 * Every job Ripen runs, declared once: its queue, payload schema and retry policy. Workers key
 * their handlers by these names, so a job without a handler does not compile. Payloads carry ids.
 */
export const jobCatalog = {
  /**
   * Submits a task upstream, then polls it as a step job until it ends. jobId = task id. The
   * upstream retry budget lives in Postgres (task attempts); BullMQ's attempts only cover a run
   * that threw (Postgres unreachable, say), and the sweep re-adds a job that ran out of them.
   */
  "task.run": {
    queue: queueNames.tasks,
    // Only `batch` (a batch item's step, which the worker keeps to its batch slots): the task's
    // id is the job's.
    schema: z.object({ batch: z.literal(true).optional() }),
    options: { attempts: 5, backoff: CATALOG_BACKOFF },
    retryDelayMs: 5_000,
  },
  /**
   * Sends one client callback (a `deliveries` row), then parks itself in the delayed set until
   * its next try is due, as a step job, until it succeeds, is refused (410) or runs out of its
   * schedule. jobId = delivery id, so Redis holds one job per pending delivery. The schedule lives
   * in Postgres (the delivery's log); BullMQ's attempts only cover a run that threw, and the sweep
   * re-adds a pending delivery whose job is gone.
   */
  "delivery.send": {
    queue: queueNames.deliveries,
    schema: z.object({ deliveryId: z.string() }),
    options: { attempts: 5, backoff: CATALOG_BACKOFF },
    retryDelayMs: 5_000,
  },
  /**
   * One firing of a schedule, added by its BullMQ job scheduler (scheduler id = schedule id); the
   * fire time it is for is the job's `opts.prevMillis`. The run it starts is keyed in Postgres
   * (`schedule_runs.run_key`), so a second run of the job, or of the same firing elsewhere, starts
   * nothing; BullMQ's attempts cover a run that threw (Postgres unreachable).
   */
  "schedule.fire": {
    queue: queueNames.schedules,
    schema: z.object({ scheduleId: z.string() }),
    options: { attempts: 5, backoff: CATALOG_BACKOFF },
    retryDelayMs: 2_000,
  },
  /** Re-enqueues active tasks without live work and expires overdue ones. */
  "maintenance.sweep": {
    queue: queueNames.maintenance,
    schema: z.object({}),
    options: { attempts: 1 },
  },
  /**
   * Grants every subscription each month that has begun and is not yet granted (hourly, by a
   * job scheduler). Each month's grant is keyed in the ledger, so a repeat grants nothing.
   */
  "maintenance.subscription-grants": {
    queue: queueNames.maintenance,
    schema: z.object({}),
    options: { attempts: 3, backoff: CATALOG_BACKOFF },
    retryDelayMs: 60_000,
  },
} as const satisfies Record<string, JobDefinition>;

/**
 * What BullMQ keeps of a queue's finished jobs: none of the completed, the failed for a day (at
 * most 1,000; maintenance's 100). Given to each queue's worker rather than written into every
 * job's options, where it cost 76 bytes of Redis per task in flight.
 */
const FAILED_FOR_A_DAY: Pick<WorkerOptions, "removeOnComplete" | "removeOnFail"> = {
  removeOnComplete: { count: 0 },
  removeOnFail: { age: 24 * 3600, count: 1_000 },
};
export const finishedJobsKept: Record<
  QueueName,
  Pick<WorkerOptions, "removeOnComplete" | "removeOnFail">
> = {
  tasks: FAILED_FOR_A_DAY,
  deliveries: FAILED_FOR_A_DAY,
  schedules: FAILED_FOR_A_DAY,
  maintenance: { removeOnComplete: { count: 0 }, removeOnFail: { count: 100 } },
};

export type JobName = keyof typeof jobCatalog;

export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]["schema"]>;

/** Every worker's `backoffStrategy`: the retry delay of the job's catalog entry. */
export const catalogBackoff: BackoffStrategy = (attemptsMade, _type, _error, job) => {
  const definition: JobDefinition | undefined = Object.hasOwn(jobCatalog, job?.name ?? "")
    ? jobCatalog[job!.name as JobName]
    : undefined;
  return Backoffs.builtinStrategies.exponential!(
    definition?.retryDelayMs ?? 5_000,
    0.5,
  )(attemptsMade);
};

/**
 * ioredis settings BullMQ requires for blocking connections (workers): wait out outages. One
 * server or a Redis Cluster, as REDIS_URL says (`connectRedis`).
 */
export function createRedis(url: string, options: RedisConnectionOptions = {}): RedisConnection {
  return connectRedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/**
 * A connection for producers that answer clients (the API): while Redis is unreachable a command
 * fails at once instead of queueing, so a create is never held up by Redis. The task is already
 * committed; the sweep enqueues it once Redis is back.
 */
export function createProducerRedis(
  url: string,
  options: RedisConnectionOptions = {},
): RedisConnection {
  return connectRedis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    // Adds from concurrent requests leave in one write instead of one each.
    enableAutoPipelining: true,
    ...options,
  });
}

/**
 * Resolves once `connection` is ready, or after `timeoutMs` whatever it does. A fail-fast producer
 * refuses commands until it has connected, so a server waits for this before taking requests;
 * past the timeout it serves anyway, since creates do not need Redis to succeed.
 */
export async function whenReady(connection: RedisConnection, timeoutMs = 5_000): Promise<boolean> {
  if (connection.status === "ready") return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady = () => {};
  try {
    return await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      connection.once("ready", onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    connection.off("ready", onReady);
  }
}

export interface QueueContext {
  connection: RedisConnection;
  prefix: string;
}

/**
 * Events a queue's stream keeps. Ripen reads none of them itself (tasks and deliveries are
 * followed in Postgres); the stream is for an operator tailing it, and BullMQ's 10,000 cost about
 * 0.8 MB of Redis per queue.
 */
const QUEUE_EVENTS_KEPT = 1_000;

export function createQueue(ctx: QueueContext, name: QueueName): Queue {
  const queue = new Queue(name, {
    connection: ctx.connection,
    prefix: ctx.prefix,
    streams: { events: { maxLen: QUEUE_EVENTS_KEPT } },
    telemetry: queueTelemetry(),
  });
  // The connection's owner logs its errors; an unheard 'error' event would crash the process.
  queue.on("error", () => {});
  return queue;
}

/**
 * Every queue of the prefix, in `queueNames` order, for reading (the operator's views and queue
 * board): the process's own where it has one, else one made here on the same connection.
 */
export function everyQueue(ctx: QueueContext, own: readonly Queue[]): Queue[] {
  return Object.values(queueNames).map(
    (name) => own.find((queue) => queue.name === name) ?? createQueue(ctx, name),
  );
}

/** Jobs per `addBulk` call when a batch is enqueued. */
export const BULK_ENQUEUE_CHUNK = 1_000;

/** A `task.run` job's payload and options for this task: its place in line (`step-order.ts`). */
function taskJob(task: TaskOrder) {
  const data: JobPayload<"task.run"> = jobCatalog["task.run"].schema.parse(
    task.batchId ? { batch: true } : {},
  );
  return {
    name: "task.run" as const,
    data,
    opts: { ...jobCatalog["task.run"].options, jobId: task.id, priority: stepPriority(task) },
  };
}

export interface TaskQueue {
  queue: Queue;
  /** Adds the task's job; rejects within `enqueueTimeoutMs` whatever Redis does. */
  enqueue(task: TaskOrder): Promise<void>;
  /** Runs the task's job now: a delayed one is promoted, a missing one added. */
  wake(task: TaskOrder): Promise<void>;
  /**
   * Removes the jobs of tasks that have ended, so a parked poll does not run only to find its
   * task settled. A job that is running (locked) stays, and finds the task ended; never rejects.
   */
  forget(taskIds: readonly string[]): Promise<void>;
  /** Adds the jobs of a batch's items with `addBulk`, `BULK_ENQUEUE_CHUNK` at a time. */
  enqueueBulk(tasks: readonly TaskOrder[]): Promise<void>;
  close(): Promise<void>;
}

/** The producer side of `task.run`, used by the API after commit and by the sweep. */
export function createTaskQueue(
  ctx: QueueContext,
  options: { enqueueTimeoutMs?: number } = {},
): TaskQueue {
  const queue = createQueue(ctx, queueNames.tasks);
  const timeoutMs = options.enqueueTimeoutMs ?? 500;
  async function enqueue(task: TaskOrder): Promise<void> {
    const job = taskJob(task);
    // Same id as the task: adding twice while a job is live is a no-op, so an add that
    // completes after the timeout does no harm.
    await withinTimeout(queue.add(job.name, job.data, job.opts), timeoutMs, "enqueue");
  }
  return {
    queue,
    enqueue,
    async enqueueBulk(tasks) {
      for (let i = 0; i < tasks.length; i += BULK_ENQUEUE_CHUNK) {
        await queue.addBulk(tasks.slice(i, i + BULK_ENQUEUE_CHUNK).map(taskJob));
      }
    },
    async wake(task) {
      const job = await queue.getJob(task.id);
      // `enqueue`, not `this.enqueue`: processes pass `wake` around detached from the queue.
      if (!job) return enqueue(task);
      if (await job.isDelayed()) await job.promote().catch(() => {});
    },
    async forget(taskIds) {
      await Promise.all(taskIds.map((taskId) => queue.remove(taskId).catch(() => 0)));
    },
    close: () => queue.close(),
  };
}

/** Adds `promise`'s race against a timer: rejects after `timeoutMs` whatever Redis does. */
async function withinTimeout(promise: Promise<unknown>, timeoutMs: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => {});
  }
}

export interface DeliveryQueue {
  queue: Queue;
  /**
   * Adds the delivery's `delivery.send` job (jobId = delivery id), replacing a finished one
   * BullMQ still keeps under that id (a redelivery, a job that ran out of attempts); a live job
   * is left as it is. Rejects within `enqueueTimeoutMs` whatever Redis does: the delivery is
   * committed and pending, so the sweep re-adds what this could not.
   */
  enqueue(deliveryId: string): Promise<void>;
  close(): Promise<void>;
}

/** The producer side of `delivery.send`: after a task's ending commits, a redelivery, the sweep. */
export function createDeliveryQueue(
  ctx: QueueContext,
  options: { enqueueTimeoutMs?: number } = {},
): DeliveryQueue {
  const queue = createQueue(ctx, queueNames.deliveries);
  const definition = jobCatalog["delivery.send"];
  const timeoutMs = options.enqueueTimeoutMs ?? 500;
  async function add(deliveryId: string): Promise<void> {
    const payload: JobPayload<"delivery.send"> = definition.schema.parse({ deliveryId });
    const state = await queue.getJobState(deliveryId);
    // A finished job keeps its id and would make the add a no-op.
    if (state === "completed" || state === "failed") await queue.remove(deliveryId);
    await queue.add("delivery.send", payload, { ...definition.options, jobId: deliveryId });
  }
  return {
    queue,
    enqueue: (deliveryId) => withinTimeout(add(deliveryId), timeoutMs, "delivery enqueue"),
    close: () => queue.close(),
  };
}

/** The fields of a schedule its BullMQ job scheduler is built from. */
export interface SchedulerSpec {
  id: string;
  cron: string;
  timezone: string;
}

export interface ScheduleQueue {
  queue: Queue;
  /** Creates or replaces the schedule's job scheduler (scheduler id = schedule id). */
  upsert(schedule: SchedulerSpec): Promise<void>;
  /** Removes the schedule's job scheduler, if any (pause, delete). */
  remove(scheduleId: string): Promise<void>;
  /** Whether Redis holds the schedule's job scheduler. */
  has(scheduleId: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The producer side of `schedule.fire`: one BullMQ job scheduler per active schedule, on the
 * `schedules` queue. Postgres holds the schedule; this is only its trigger, rebuilt from there
 * whenever Redis has lost it. Each call rejects within `timeoutMs` whatever Redis does.
 */
export function createScheduleQueue(
  ctx: QueueContext,
  options: { timeoutMs?: number } = {},
): ScheduleQueue {
  const queue = createQueue(ctx, queueNames.schedules);
  const definition = jobCatalog["schedule.fire"];
  const timeoutMs = options.timeoutMs ?? 2_000;
  const within = <T>(promise: Promise<T>, what: string): Promise<T> => {
    const result = withinTimeout(promise, timeoutMs, what);
    return result.then(() => promise);
  };
  return {
    queue,
    async upsert(schedule) {
      const payload: JobPayload<"schedule.fire"> = definition.schema.parse({
        scheduleId: schedule.id,
      });
      await within(
        queue.upsertJobScheduler(
          schedule.id,
          { pattern: schedule.cron, tz: schedule.timezone },
          { name: "schedule.fire", data: payload, opts: definition.options },
        ),
        "schedule upsert",
      );
    },
    async remove(scheduleId) {
      await within(queue.removeJobScheduler(scheduleId), "schedule removal");
    },
    async has(scheduleId) {
      return Boolean(await within(queue.getJobScheduler(scheduleId), "schedule lookup"));
    },
    close: () => queue.close(),
  };
}
export {
  QUEUE_DEPTH_STATES,
  type QueueDepth,
  type QueueDepthState,
  readQueueDepths,
} from "./queue-depths";
