import { setTimeout as sleep } from "node:timers/promises";
import {
  type Clock,
  countTasksWaitingToStart,
  createTaskEnder,
  grantDueSubscriptionMonths,
  isDatabaseUnavailable,
  providerUseSince,
  systemClock,
} from "@ripen/core";
import type { Executor } from "@ripen/db";
import { observeJobWait } from "@ripen/metrics";
import { getModel } from "@ripen/models";
import { createUserUrlFetch } from "@ripen/net";
import {
  backlogLeaver,
  createAdmissionControl,
  createProviderHealth,
  type HealthPolicy,
  type ProviderHealth,
  type Providers,
  restoreProviderUse,
} from "@ripen/providers";
import {
  catalogBackoff,
  countsSlotsOf,
  createDeliveryQueue,
  createQueue,
  createQueueLoadReader,
  createScheduleQueue,
  createTaskEndingEffects,
  createTaskNotifier,
  createTaskQueue,
  finishedJobsKept,
  type JobName,
  type JobPayload,
  jobCatalog,
  type QueueName,
  queueNames,
  type RedisConnection,
  startQueuePaceMeter,
} from "@ripen/queue";
import { queueTelemetry } from "@ripen/telemetry";
import { type Job, Worker } from "bullmq";
import type { Logger } from "pino";
import { createBatchGate } from "./batch-gate";
import { createDeliver, type DeliverDeps } from "./deliver";
import type { PollPolicy } from "./poll-delay";
import { createRunTask, type RetryPolicy } from "./run-task";
import { createScheduleFire, rebuildSchedules, type ScheduleFireDeps } from "./schedule-fire";
import { type SweepResult, sweep } from "./sweep";

export interface WorkerOptions {
  db: Executor;
  connection: RedisConnection;
  prefix: string;
  providers: Providers;
  logger: Logger;
  /** When a provider's circuit opens, and for how long (defaults: 5 failures, 30 s, 5 min). */
  health?: HealthPolicy;
  callbackBaseUrl: string;
  callbackSecret: string;
  poll: PollPolicy;
  /** Upstream attempts per task and the backoff between refused submissions. */
  retry?: RetryPolicy;
  sweep: { everyMs: number; graceMs: number };
  /** The most `task.run` steps the process runs at once (50). */
  concurrency?: number;
  /**
   * How many of those slots batch items' steps may take at once (`batch-gate.ts`): the rest are
   * kept for interactive tasks, and the worker takes no more batch jobs than that from BullMQ.
   * Default: 2/5 of `concurrency`, at least 1. Measured (bench f and h, 50 slots): 20 batch steps
   * keep the worker's event loop busy, a 10,000-item batch ends as fast as with 50, and
   * interactive tasks created right after a 2,000-item batch are picked up as fast as alone.
   * Beside interactive work, batch steps keep to a quarter of these (`batch-gate.ts`).
   */
  batchConcurrency?: number;
  /**
   * BullMQ's lock on a running job and how often other workers look for jobs whose worker died
   * (defaults 10 s and 5 s): a job held by a killed worker runs again elsewhere within their sum.
   * BullMQ's own 30 s each left a killed worker's tasks idle for up to a minute.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  clock?: Clock;
  random?: () => number;
  /** Client callbacks (`delivery.send` jobs, on their own queue). */
  deliveries?: {
    /**
     * Whether a callback URL may reach loopback (127.0.0.0/8, ::1, localhost): off in
     * production; the local stack and tests receive their own callbacks there. Private,
     * link-local and metadata addresses are refused whatever this says.
     */
    allowLoopback?: boolean;
    /** How client URLs are called; by default `createUserUrlFetch` (`@ripen/net`) with the above. */
    fetch?: DeliverDeps["fetch"];
    /** Deliveries one worker process sends at once (50): a hung endpoint holds one for 15 s. */
    concurrency?: number;
    /** One try's timeout (15 s). */
    timeoutMs?: number;
    /** The wait before each try of a round (immediately, 5 s, 5 min, …, 10 h). */
    schedule?: readonly number[];
  };
  /** Schedules' firings: how late one may be handled and still count as on time (30 s). */
  schedules?: { catchUpGraceMs?: number };
}

export interface RipenWorker {
  /** The providers' shared health and limits, as this worker sees them. */
  health: ProviderHealth;
  /** Runs one sweep now (the scheduler also runs it every `sweep.everyMs`). */
  sweepNow(): Promise<SweepResult>;
  /** Recreates the sweep's schedule if Redis lost it; true when it had to. */
  ensureSweepSchedule(): Promise<boolean>;
  /**
   * Recreates the job scheduler of every active schedule Redis lacks and catches each owed one
   * up once (done at start and when the watchdog finds Redis emptied).
   */
  rebuildSchedules(): Promise<{ schedules: number; caughtUp: number }>;
  close(): Promise<void>;
}

type Handlers = { [N in JobName]: (job: Job<JobPayload<N>>, token?: string) => Promise<unknown> };

const DEFAULT_LOCK_MS = 10_000;
const DEFAULT_STALLED_INTERVAL_MS = 5_000;
const MAX_STALLED_COUNT = 50;

const SWEEP_SCHEDULER_ID = "sweep";
/**
 * How long the sweep that re-adds every task's job after Redis was emptied is held by its
 * process without a chunk of 25 tasks done: one killed during it (a chaos run's worker, 8 s into
 * the sweep) left the tasks it had not reached without a job until their next wake-up, and 17
 * items of a batch expired unsubmitted. Other processes take it over within this, plus their next
 * check. Renewed once a page of 500, a 10 s lease was taken over 13 s after each of two kills
 * in a later run; under that run's load a page took about 9 s, and a chunk about half a second.
 */
const EMPTIED_SWEEP_LEASE_MS = 5_000;
/**
 * How long a start waits out a Postgres that is away (restarting, failing over) before it fails.
 * A chaos run's worker, started as Postgres restarted, failed its start over a 2.5 s outage.
 */
const START_OUTAGE_ALLOWANCE_MS = 60_000;
const SUBSCRIPTION_GRANTS_SCHEDULER_ID = "subscription-grants";
/**
 * How often subscriptions' due months are granted: hourly, so a month's credits arrive within the
 * hour it begins (a daily scan would leave a customer up to a day without them).
 */
const SUBSCRIPTION_GRANTS_EVERY_MS = 3_600_000;

/** The share of the task slots batch items may take by default (`batchConcurrency`). */
const BATCH_SHARE = 0.4;

/**
 * Starts the BullMQ workers for every queue in the job catalog and the sweep's scheduler. Redis
 * holds nothing that cannot be rebuilt: a watchdog recreates the scheduler when Redis comes back
 * without it (restarted empty, flushed) and sweeps at once, which re-adds every lost job.
 */
export async function startWorker(options: WorkerOptions): Promise<RipenWorker> {
  const clock = options.clock ?? systemClock;
  const ctx = { connection: options.connection, prefix: options.prefix };
  const taskQueue = createTaskQueue(ctx);
  const maintenanceQueue = createQueue(ctx, queueNames.maintenance);
  const deliveryQueue = createDeliveryQueue(ctx);
  const scheduleQueue = createScheduleQueue(ctx);
  const ownFetch = options.deliveries?.fetch
    ? undefined
    : createUserUrlFetch({ allowLoopback: options.deliveries?.allowLoopback ?? false });
  const userUrlFetch = options.deliveries?.fetch ?? ownFetch!;
  // Live-status hints after each committed transition (SSE streams in any API process).
  const notifier = createTaskNotifier(options.connection, options.prefix, {
    onError: (error, taskId) =>
      options.logger.warn({ err: (error as Error).message, taskId }, "live-status hint not sent"),
  });
  const health = createProviderHealth(options.connection, options.prefix, options.health, {
    waitForRestore: true,
  });
  // Every ending this process decides (polls, submits, deadlines, the sweep) goes through it.
  const ender = createTaskEnder(
    createTaskEndingEffects({
      logger: options.logger,
      redis: {
        taskQueue,
        deliveryQueue,
        notifier,
        releaseSlot: health.releaseSlot,
        recordGenerations: health.generations.record,
        countsSlots: countsSlotsOf(options.providers),
        leaveBacklogs: backlogLeaver(health, options.providers.list),
        forgetsJobs: false,
      },
    }),
  );
  const sweepDeps = {
    db: options.db,
    taskQueue,
    clock,
    logger: options.logger,
    graceMs: options.sweep.graceMs,
    ender,
    deliveryQueue,
  };

  const scheduleDeps: ScheduleFireDeps = {
    db: options.db,
    clock,
    logger: options.logger,
    taskQueue,
    enqueueDelivery: deliveryQueue.enqueue,
    schedules: scheduleQueue,
    // Templates were checked at submit (URLs included); each run re-checks models and inputs.
    resolveModel: getModel,
    catchUpGraceMs: options.schedules?.catchUpGraceMs,
    capacity: createAdmissionControl(
      options.providers.list,
      health,
      createQueueLoadReader(options.connection, options.prefix, (horizonMs) =>
        countTasksWaitingToStart(options.db, horizonMs),
      ),
    ),
  };

  const taskConcurrency = options.concurrency ?? 50;
  let taskWorker: Worker | undefined;
  const batchGate = createBatchGate({
    slots: taskConcurrency,
    batchSlots: options.batchConcurrency ?? Math.max(1, Math.round(taskConcurrency * BATCH_SHARE)),
    resize: (wanted) => {
      if (taskWorker) taskWorker.concurrency = wanted;
    },
  });
  // Admission control divides the tasks waiting by the pace the workers start them at.
  const pace = startQueuePaceMeter(options.connection, options.prefix);
  const runTask = createRunTask({
    db: options.db,
    providers: options.providers,
    health,
    clock,
    logger: options.logger,
    poll: options.poll,
    retry: options.retry,
    callbackBaseUrl: options.callbackBaseUrl,
    callbackSecret: options.callbackSecret,
    random: options.random,
    notifier,
    ender,
    onTaskStarted: pace.taskStarted,
  });
  const handlers: Handlers = {
    "task.run": (job, token) => {
      return batchGate.run(job.data.batch === true, () => runTask(job, token));
    },
    "delivery.send": createDeliver({
      db: options.db,
      clock,
      logger: options.logger,
      fetch: userUrlFetch,
      timeoutMs: options.deliveries?.timeoutMs,
      schedule: options.deliveries?.schedule,
    }),
    "maintenance.sweep": () => sweep(sweepDeps),
    "maintenance.subscription-grants": async () => {
      const granted = await grantDueSubscriptionMonths(options.db, clock.now());
      if (granted > 0) options.logger.info({ granted }, "subscription months granted");
      return { granted };
    },
    "schedule.fire": createScheduleFire(scheduleDeps),
  };

  const concurrencyOf: Record<QueueName, number> = {
    // Grows and shrinks with the interactive steps running (see batch-gate.ts).
    tasks: batchGate.wanted,
    maintenance: 1,
    deliveries: options.deliveries?.concurrency ?? 50,
    schedules: 10,
  };
  const workers = Object.values(queueNames).map((queueName) => {
    const worker = new Worker(
      queueName,
      async (job, token) => {
        observeJobWait(queueName, job);
        const name = job.name as JobName;
        if (!Object.hasOwn(handlers, name) || jobCatalog[name].queue !== queueName) {
          throw new Error(`No handler for job '${job.name}' on queue '${queueName}'`);
        }
        const handler = handlers[name] as (job: Job, token?: string) => Promise<unknown>;
        return handler(job, token);
      },
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: concurrencyOf[queueName],
        lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_MS,
        stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
        // Every job here is safe to run again (a step reads its task first); BullMQ's default
        // fails a job stalled twice, which left its task to the slower sweep when workers were
        // killed again and again.
        maxStalledCount: MAX_STALLED_COUNT,
        ...finishedJobsKept[queueName],
        settings: { backoffStrategy: catalogBackoff },
        telemetry: queueTelemetry(),
      },
    );
    if (queueName === queueNames.tasks) taskWorker = worker;
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

  // The sweep's scheduler and the subscriptions' monthly grants: both rebuilt together.
  const upsertSweepSchedule = async () => {
    await maintenanceQueue.upsertJobScheduler(
      SWEEP_SCHEDULER_ID,
      { every: options.sweep.everyMs },
      { name: "maintenance.sweep", data: {}, opts: jobCatalog["maintenance.sweep"].options },
    );
    await maintenanceQueue.upsertJobScheduler(
      SUBSCRIPTION_GRANTS_SCHEDULER_ID,
      { every: SUBSCRIPTION_GRANTS_EVERY_MS },
      {
        name: "maintenance.subscription-grants",
        data: {},
        opts: jobCatalog["maintenance.subscription-grants"].options,
      },
    );
  };
  async function ensureSweepSchedule(): Promise<boolean> {
    if (await maintenanceQueue.getJobScheduler(SWEEP_SCHEDULER_ID)) return false;
    await upsertSweepSchedule();
    return true;
  }
  /** The providers' request windows and tasks in flight, as Postgres recorded them. */
  async function restoreLimits(): Promise<void> {
    try {
      await restoreProviderUse(
        health,
        options.providers.list,
        (since) => providerUseSince(options.db, since),
        clock.now().getTime(),
      );
    } finally {
      await health.restoreDone();
    }
  }
  /** Runs a step of the start again while Postgres is unavailable, within the allowance. */
  async function whileDatabaseAway<T>(step: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + START_OUTAGE_ALLOWANCE_MS;
    for (let waitMs = 250; ; waitMs = Math.min(2 * waitMs, 5_000)) {
      try {
        return await step();
      } catch (error) {
        if (!isDatabaseUnavailable(error) || Date.now() + waitMs > giveUpAt) throw error;
        options.logger.warn(
          { event: "worker.waiting_for_postgres", err: (error as Error).message, waitMs },
          "Postgres unavailable while starting; trying again",
        );
        await sleep(waitMs);
      }
    }
  }
  let checking = false;
  /** Sweeps and rebuilds the schedules when Redis lost Ripen's data; says whether it did. */
  async function watchdog(): Promise<boolean> {
    if (checking) return false;
    checking = true;
    try {
      // The sweep's schedule cannot say Redis was emptied, since every worker that starts puts
      // it back without sweeping: the marker can.
      const emptied = await health.claimEmptied();
      const scheduleMissing = await ensureSweepSchedule();
      // The finder's, or one it left unfinished when it was killed.
      const sweepEveryTask = await health.claimEmptiedSweep(EMPTIED_SWEEP_LEASE_MS);
      if (emptied || scheduleMissing || sweepEveryTask) {
        options.logger.warn(
          { redisEmptied: emptied, sweepScheduleMissing: scheduleMissing, sweepEveryTask },
          "Redis lost Ripen's data; sweeping now",
        );
        // Without them the sweep's jobs would run as if every window were empty; with them
        // unknown (Postgres down), those jobs still run, and the providers' 429s correct them.
        if (emptied) {
          await restoreLimits().catch((error) =>
            options.logger.warn({ err: (error as Error).message }, "provider limits not restored"),
          );
        }
        await sweep(
          sweepDeps,
          sweepEveryTask
            ? { redisEmptied: true, renew: () => health.renewEmptiedSweep(EMPTIED_SWEEP_LEASE_MS) }
            : {},
        );
        if (sweepEveryTask) await health.emptiedSweepDone();
        // The schedules' job schedulers went with the sweep's.
        await rebuildSchedules(scheduleDeps);
        return true;
      }
    } catch (error) {
      options.logger.warn({ err: (error as Error).message }, "sweep schedule check failed");
    } finally {
      checking = false;
    }
    return false;
  }

  await upsertSweepSchedule();
  // A worker started after Redis was emptied is the first to see it (it put the schedule back).
  // Awaited: a worker is started once that sweep and rebuild are done, not racing what follows.
  // Otherwise a start rebuilds the schedules on its own (catching up what was missed while down).
  if (!(await watchdog())) await whileDatabaseAway(() => rebuildSchedules(scheduleDeps));
  // One timer per process, not per task: checks that Redis still holds the schedule.
  const watchdogTimer = setInterval(
    watchdog,
    Math.min(options.sweep.everyMs, EMPTIED_SWEEP_LEASE_MS),
  );
  watchdogTimer.unref();
  // A reconnect may be to a Redis that restarted empty.
  const onReady = () => void watchdog();
  options.connection.on("ready", onReady);

  // Closed once, however often asked (a test stack also closes the workers it started).
  let closing: Promise<void> | undefined;
  async function closeAll(): Promise<void> {
    clearInterval(watchdogTimer);
    options.connection.off("ready", onReady);
    await Promise.all(workers.map((w) => w.close()));
    await pace.stop();
    await Promise.all([
      taskQueue.close(),
      maintenanceQueue.close(),
      deliveryQueue.close(),
      scheduleQueue.close(),
    ]);
    await ownFetch?.close();
  }

  return {
    health,
    sweepNow: () => sweep(sweepDeps),
    ensureSweepSchedule,
    rebuildSchedules: () => rebuildSchedules(scheduleDeps),
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}
