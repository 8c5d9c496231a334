import {
  type Clock,
  type EnqueueDelivery,
  enqueueDeliveryOf,
  findSchedule,
  listActiveSchedules,
  type StartedRun,
  scheduleBaseline,
  startScheduleRun,
  type TemplateChecks,
} from "@ripen/core";
import type { Executor, Schedule } from "@ripen/db";
import { countTasksCreated } from "@ripen/metrics";
import { type AdmissionControl, admitBatch } from "@ripen/providers";
import {
  type JobPayload,
  latestFireAtOrBefore,
  type ScheduleQueue,
  type TaskQueue,
} from "@ripen/queue";
import type { Job } from "bullmq";
import type { Logger } from "pino";

export interface ScheduleFireDeps extends TemplateChecks {
  db: Executor;
  clock: Clock;
  logger: Logger;
  taskQueue: Pick<TaskQueue, "enqueueBulk">;
  enqueueDelivery: EnqueueDelivery;
  schedules: Pick<ScheduleQueue, "upsert" | "has">;
  /** Admission control: a run's batch no provider can start in time fails the run (none: admitted). */
  capacity?: AdmissionControl;
  /**
   * How late a firing may be handled and still count as on time (30 s). A firing handled later
   * than this, with newer fire times already past, is stale: the worker was down; one catch-up
   * run for the latest fire time replaces it. Also the age below which an earlier fire time
   * without a run is taken to be in flight elsewhere rather than missed.
   */
  catchUpGraceMs?: number;
}

export const SCHEDULE_CATCH_UP_GRACE_MS = 30_000;

type RunReason = "scheduled" | "catch_up";

/**
 * Starts the run for one fire time and, after its commit, enqueues the batch's items (at the
 * batch priority) or the failed run's callback. Logs the outcome; a duplicate is another
 * worker's (or an earlier try's) run of the same firing and does nothing.
 */
async function runFor(
  deps: ScheduleFireDeps,
  schedule: Schedule,
  scheduledFor: Date,
  reason: RunReason,
): Promise<StartedRun> {
  const started = await startScheduleRun(deps.db, {
    schedule,
    scheduledFor,
    now: deps.clock.now(),
    resolveModel: deps.resolveModel,
    checkUrls: deps.checkUrls,
    admit: (items) =>
      admitBatch(
        deps,
        { accountId: schedule.accountId, scheduleId: schedule.id },
        items,
        deps.clock.now(),
        deps.resolveModel,
      ),
  });
  const fields = {
    scheduleId: schedule.id,
    accountId: schedule.accountId,
    scheduledFor: scheduledFor.toISOString(),
    reason,
  };
  switch (started.outcome) {
    case "duplicate":
      deps.logger.debug({ event: "schedule.run_duplicate", ...fields }, "run already started");
      break;
    case "created":
      countTasksCreated(started.models, "native");
      deps.logger.info(
        {
          event: "schedule.run_created",
          ...fields,
          runId: started.run.id,
          batchId: started.run.batchId,
          items: started.taskIds.length,
          rejected: started.rejected,
        },
        "schedule run created its batch",
      );
      try {
        await deps.taskQueue.enqueueBulk(started.items);
      } catch (error) {
        // Committed with next_wake_at = now: the sweep enqueues what this could not.
        deps.logger.warn(
          { ...fields, batchId: started.run.batchId, err: (error as Error).message },
          "batch enqueue failed; left to the sweep",
        );
      }
      break;
    case "failed":
      deps.logger.warn(
        {
          event: "schedule.run_failed",
          ...fields,
          runId: started.run.id,
          errorCode: started.run.errorCode,
          err: started.run.errorMessage,
          deliveryId: started.deliveryId,
        },
        "schedule run failed",
      );
      await enqueueDeliveryOf(started, deps.enqueueDelivery, deps.logger);
      break;
  }
  return started;
}

const isFiring = (schedule: Schedule | null): schedule is Schedule =>
  schedule !== null && schedule.deletedAt === null && schedule.state === "active";

/**
 * One firing of a schedule, for the fire time `fireTime`. A paused or deleted schedule's
 * leftover firing does nothing, nor does one the schedule does not owe (before its last run or
 * its owner's last change). The policy for missed firings is "catch up once, then resume":
 * - a stale firing (handled after newer fire times have passed, beyond the grace) starts one
 *   run, for the latest fire time, instead of its own;
 * - an on-time firing first catches up the fire time just before it if that one is owed and
 *   old enough not to be in flight (Redis lost the scheduler meanwhile), then runs its own.
 */
export async function fireSchedule(
  deps: ScheduleFireDeps,
  scheduleId: string,
  fireTime: Date,
): Promise<void> {
  const schedule = await findSchedule(deps.db, scheduleId);
  if (!isFiring(schedule)) {
    deps.logger.info(
      { event: "schedule.fire_skipped", scheduleId, fireTime: fireTime.toISOString() },
      "firing of a paused or deleted schedule skipped",
    );
    return;
  }
  const baseline = scheduleBaseline(schedule).getTime();
  if (fireTime.getTime() <= baseline) return;
  const graceMs = deps.catchUpGraceMs ?? SCHEDULE_CATCH_UP_GRACE_MS;
  const now = deps.clock.now().getTime();
  const latest = latestFireAtOrBefore(schedule.cron, schedule.timezone, now);
  if (latest !== null && latest > fireTime.getTime() && now - fireTime.getTime() > graceMs) {
    await runFor(deps, schedule, new Date(latest), "catch_up");
    return;
  }
  const before = latestFireAtOrBefore(schedule.cron, schedule.timezone, fireTime.getTime() - 1);
  if (before !== null && before > baseline && now - before > graceMs) {
    await runFor(deps, schedule, new Date(before), "catch_up");
  }
  await runFor(deps, schedule, fireTime, "scheduled");
}

/**
 * Recreates every active schedule's job scheduler from Postgres (at worker start, and when the
 * watchdog finds Redis emptied), and catches up once each schedule whose latest fire time is
 * owed: one run, whatever number of firings were missed. Another worker doing the same at the
 * same time starts nothing twice (the run key).
 */
export async function rebuildSchedules(
  deps: ScheduleFireDeps,
): Promise<{ schedules: number; caughtUp: number }> {
  const active = await listActiveSchedules(deps.db);
  let caughtUp = 0;
  const graceMs = deps.catchUpGraceMs ?? SCHEDULE_CATCH_UP_GRACE_MS;
  for (const schedule of active) {
    try {
      // Redis lost it: no job is coming for its latest fire time, so that one is owed at once.
      const missing = !(await deps.schedules.has(schedule.id));
      if (missing) await deps.schedules.upsert(schedule);
      const now = deps.clock.now().getTime();
      const latest = latestFireAtOrBefore(schedule.cron, schedule.timezone, now);
      const owed = latest !== null && latest > scheduleBaseline(schedule).getTime();
      if (owed && (missing || now - latest > graceMs)) {
        const started = await runFor(deps, schedule, new Date(latest), "catch_up");
        if (started.outcome !== "duplicate") caughtUp++;
      }
    } catch (error) {
      deps.logger.error(
        { scheduleId: schedule.id, err: (error as Error).message },
        "schedule rebuild failed",
      );
    }
  }
  if (active.length > 0 || caughtUp > 0) {
    deps.logger.info(
      { event: "schedules.rebuilt", schedules: active.length, caughtUp },
      "schedules rebuilt from Postgres",
    );
  }
  return { schedules: active.length, caughtUp };
}

/**
 * The `schedule.fire` job: the fire time it is for is the one BullMQ's scheduler computed for
 * it (`opts.prevMillis`; its delay from its creation otherwise).
 */
export function createScheduleFire(deps: ScheduleFireDeps) {
  return async function scheduleFire(job: Job<JobPayload<"schedule.fire">>): Promise<void> {
    const fireMillis = job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
    await fireSchedule(deps, job.data.scheduleId, new Date(fireMillis));
  };
}
