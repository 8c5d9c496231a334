import { type JobsOptions, Queue } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { z } from "zod";

export const queueNames = { tasks: "tasks", maintenance: "maintenance" } as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];

interface JobDefinition {
  queue: QueueName;
  schema: z.ZodType;
  options: JobsOptions;
}

/**
 * Every job Ripen runs, declared once: its queue, payload schema and retry policy. Workers key
 * their handlers by these names, so a job without a handler does not compile. Payloads carry ids.
 */
export const jobCatalog = {
  /** Submits a task upstream, then polls it as a step job until it ends. jobId = task id. */
  "task.run": {
    queue: queueNames.tasks,
    schema: z.object({ taskId: z.string(), polls: z.number().int().min(0).default(0) }),
    options: {
      attempts: 6,
      backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  },
  /** Re-enqueues active tasks without live work and expires overdue ones. */
  "maintenance.sweep": {
    queue: queueNames.maintenance,
    schema: z.object({}),
    options: { attempts: 1, removeOnComplete: true, removeOnFail: 100 },
  },
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.infer<(typeof jobCatalog)[N]["schema"]>;

/** ioredis settings BullMQ requires for blocking connections. */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

export interface QueueContext {
  connection: Redis;
  prefix: string;
}

export function createQueue(ctx: QueueContext, name: QueueName): Queue {
  return new Queue(name, { connection: ctx.connection, prefix: ctx.prefix });
}

export interface TaskQueue {
  queue: Queue;
  enqueue(taskId: string): Promise<void>;
  close(): Promise<void>;
}

/** Overrides of the catalog's retry policy for `task.run` (tests use short backoffs). */
export interface SubmitRetryPolicy {
  attempts?: number;
  backoffMs?: number;
}

/** The producer side of `task.run`, used by the API after commit and by the sweep. */
export function createTaskQueue(ctx: QueueContext, policy: SubmitRetryPolicy = {}): TaskQueue {
  const queue = createQueue(ctx, queueNames.tasks);
  const definition = jobCatalog["task.run"];
  return {
    queue,
    async enqueue(taskId) {
      const payload: JobPayload<"task.run"> = definition.schema.parse({ taskId });
      await queue.add("task.run", payload, {
        ...definition.options,
        ...(policy.attempts ? { attempts: policy.attempts } : {}),
        ...(policy.backoffMs
          ? { backoff: { ...definition.options.backoff, delay: policy.backoffMs } }
          : {}),
        // Same id as the task: adding twice while a job is live is a no-op.
        jobId: taskId,
      });
    },
    close: () => queue.close(),
  };
}
