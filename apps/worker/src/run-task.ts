import {
  createAttemptWriter,
  createTaskReader,
  expiredOutcome,
  isActiveStatus,
  setNextWake,
} from "@ripen/core";
import { type JobPayload, STARTED_TASK_PRIORITY } from "@ripen/queue";
import { inTaskSpan } from "@ripen/telemetry";
import { DelayedError, type Job } from "bullmq";
import { pollStep } from "./poll-step";
import { submitStep } from "./submit-step";
import { endTaskNow, type RunTaskDeps, type StepDeps, untilDeadline } from "./task-step";

export { defaultRetryPolicy, type RetryPolicy, type RunTaskDeps } from "./task-step";

/**
 * The `task.run` step job. It reads the task and acts on its state, so running it twice, or after
 * a crash, is harmless: queued/submitting → route and submit (or recover the open attempt),
 * running → poll, ended → nothing. Between steps the job parks itself in the delayed set and the
 * task records when it expects to wake (`next_wake_at`), which is how the sweep tells a lost job
 * from a sleeping one. A provider's limits park only that provider's tasks: the job waits in the
 * delayed set, never in a queue-wide rate limit.
 */
export function createRunTask(runDeps: RunTaskDeps) {
  // One writer and one reader for all of this worker's jobs: their reads, opens and accepts are
  // written in groups.
  const deps: StepDeps = {
    ...runDeps,
    attempts: runDeps.attempts ?? createAttemptWriter(runDeps.db),
  };
  const reader = createTaskReader(runDeps.db);
  return async function runTask(job: Job<JobPayload<"task.run">>, token?: string): Promise<void> {
    // jobId = task id (`taskJob`).
    const found = await reader.withLatestAttempt(job.id!);
    if (!found) return;
    const { task, attempt: latest } = found;
    // Ended elsewhere (its callback, a cancel): that ending's after-commit step freed its slot.
    if (!isActiveStatus(task.status)) return;

    const now = deps.clock.now();
    if (now >= task.deadlineAt) {
      await endTaskNow(deps, task, expiredOutcome(), "deadline");
      return;
    }

    const polled =
      task.status === "running" && latest?.state === "accepted" && latest.providerTaskId
        ? latest
        : undefined;
    // The step's span in the task's trace: its upstream call (whose span names the provider a
    // submit chose) and its log lines are in it.
    const step = await inTaskSpan(
      polled ? "task.poll" : "task.submit",
      task.id,
      { "ripen.model": task.model, "ripen.provider": polled?.provider },
      () => (polled ? pollStep(deps, task, polled) : submitStep(deps, task, latest)),
    );
    if (step.done) return;
    if (step.started) deps.onTaskStarted?.();

    const delay = untilDeadline(deps, task, step.delayMs);
    if (!step.wakeRecorded) {
      await setNextWake(
        deps.db,
        task.id,
        new Date(deps.clock.now().getTime() + delay),
        step.waitingFor,
      );
    }
    // A started task's polls run ahead of every task not yet started (the priority is kept
    // through the delayed set): changed once, when it first waits as a running task.
    if (!step.waitingFor && job.priority !== STARTED_TASK_PRIORITY) {
      await job.changePriority({ priority: STARTED_TASK_PRIORITY });
    }
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  };
}
