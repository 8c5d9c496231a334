import { type Clock, type ProviderRegistry, systemClock } from "@ripen/core";
import type { Executor } from "@ripen/db";
import {
  createQueue,
  createTaskQueue,
  type JobName,
  type JobPayload,
  jobCatalog,
  type QueueName,
  queueNames,
  type SubmitRetryPolicy,
} from "@ripen/queue";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { PollPolicy } from "./poll-delay";
import { createRunTask } from "./run-task";
import { type SweepResult, sweep } from "./sweep";

export interface WorkerOptions {
  db: Executor;
  connection: Redis;
  prefix: string;
  providers: ProviderRegistry;
  logger: Logger;
  callbackBaseUrl: string;
  callbackSecret: string;
  poll: PollPolicy;
  sweep: { everyMs: number; graceMs: number };
  concurrency?: number;
  clock?: Clock;
  random?: () => number;
  /** Retry policy of jobs the sweep re-adds; the API's producer should use the same. */
  submitPolicy?: SubmitRetryPolicy;
}

export interface RipenWorker {
  /** Runs one sweep now (the scheduler also runs it every `sweep.everyMs`). */
  sweepNow(): Promise<SweepResult>;
  close(): Promise<void>;
}

type Handlers = { [N in JobName]: (job: Job<JobPayload<N>>, token?: string) => Promise<unknown> };

/** Starts the BullMQ workers for every queue in the job catalog, and the sweep's scheduler. */
export async function startWorker(options: WorkerOptions): Promise<RipenWorker> {
  const clock = options.clock ?? systemClock;
  const ctx = { connection: options.connection, prefix: options.prefix };
  const taskQueue = createTaskQueue(ctx, options.submitPolicy);
  const maintenanceQueue = createQueue(ctx, queueNames.maintenance);
  const sweepDeps = {
    db: options.db,
    taskQueue,
    clock,
    logger: options.logger,
    graceMs: options.sweep.graceMs,
  };

  const handlers: Handlers = {
    "task.run": createRunTask({
      db: options.db,
      providers: options.providers,
      clock,
      logger: options.logger,
      poll: options.poll,
      callbackBaseUrl: options.callbackBaseUrl,
      callbackSecret: options.callbackSecret,
      random: options.random,
    }),
    "maintenance.sweep": () => sweep(sweepDeps),
  };

  const concurrencyOf: Record<QueueName, number> = {
    tasks: options.concurrency ?? 50,
    maintenance: 1,
  };
  const workers = Object.values(queueNames).map((queueName) => {
    const worker = new Worker(
      queueName,
      async (job, token) => {
        const name = job.name as JobName;
        const handler = handlers[name] as (job: Job, token?: string) => Promise<unknown>;
        if (!handler || jobCatalog[name].queue !== queueName) {
          throw new Error(`No handler for job '${job.name}' on queue '${queueName}'`);
        }
        return handler(job, token);
      },
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: concurrencyOf[queueName],
      },
    );
    worker.on("failed", (job, error) => {
      options.logger.warn(
        { queue: queueName, jobId: job?.id, err: error.message },
        "job attempt failed",
      );
    });
    worker.on("error", (error) =>
      options.logger.error({ queue: queueName, err: error }, "worker error"),
    );
    return worker;
  });

  await maintenanceQueue.upsertJobScheduler(
    "sweep",
    { every: options.sweep.everyMs },
    { name: "maintenance.sweep", data: {}, opts: jobCatalog["maintenance.sweep"].options },
  );

  return {
    sweepNow: () => sweep(sweepDeps),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([taskQueue.close(), maintenanceQueue.close()]);
    },
  };
}
