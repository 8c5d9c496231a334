import {
  type Clock,
  callbackUrlFor,
  completeTask,
  expiredOutcome,
  findTask,
  type ImageInput,
  outcomeOf,
  ProviderError,
  type ProviderRegistry,
  type ProviderTaskState,
  transitionTask,
} from "@ripen/core";
import { type Executor, type Task, tasks, terminalTaskStatuses } from "@ripen/db";
import type { JobPayload } from "@ripen/queue";
import { DelayedError, type Job } from "bullmq";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { nextPollDelay, type PollPolicy } from "./poll-delay";

export interface RunTaskDeps {
  db: Executor;
  providers: ProviderRegistry;
  clock: Clock;
  logger: Logger;
  poll: PollPolicy;
  callbackBaseUrl: string;
  callbackSecret: string;
  random?: () => number;
}

const isTerminal = (task: Task) =>
  (terminalTaskStatuses as readonly string[]).includes(task.status);

/**
 * The `task.run` step job. It reads the task and acts on its state, so running it twice, or after
 * a crash, is harmless: queued/submitting → submit; running → poll; terminal → nothing. Between
 * polls the job parks itself in the delayed set, so a task in flight costs a Redis entry, not a
 * timer in this process.
 */
export function createRunTask(deps: RunTaskDeps) {
  return async function runTask(job: Job<JobPayload<"task.run">>, token?: string): Promise<void> {
    const task = await findTask(deps.db, job.data.taskId);
    if (!task || isTerminal(task)) return;

    const now = deps.clock.now();
    if (now >= task.deadlineAt) {
      await completeTask(deps.db, {
        taskId: task.id,
        outcome: expiredOutcome(),
        source: "deadline",
        now,
      });
      return;
    }

    const ended =
      task.status === "running" ? await pollOnce(deps, task) : await submitOnce(deps, task, job);
    if (ended) return;

    const delay = Math.max(
      0,
      Math.min(
        nextPollDelay(job.data.polls, deps.poll, deps.random),
        // Wake no later than the deadline, so expiry is on time.
        task.deadlineAt.getTime() - deps.clock.now().getTime(),
      ),
    );
    await job.updateData({ ...job.data, polls: job.data.polls + 1 });
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  };
}

/** Returns true when the task has ended (or is no longer ours to submit). */
async function submitOnce(
  deps: RunTaskDeps,
  task: Task,
  job: Job<JobPayload<"task.run">>,
): Promise<boolean> {
  if (task.status === "queued") {
    const moved = await transitionTask(deps.db, {
      taskId: task.id,
      from: ["queued"],
      to: "submitting",
      source: "worker",
      now: deps.clock.now(),
    });
    if (!moved) return true;
  }
  await deps.db
    .update(tasks)
    .set({ attempts: sql`${tasks.attempts} + 1` })
    .where(and(eq(tasks.id, task.id), eq(tasks.status, "submitting")));

  const provider = deps.providers[task.provider];
  let submitted: { providerTaskId: string; upstreamCost?: number };
  try {
    submitted = await provider.submit({
      taskId: task.id,
      model: task.model,
      input: task.input as unknown as ImageInput,
      callbackUrl: callbackUrlFor(
        deps.callbackBaseUrl,
        deps.callbackSecret,
        task.provider,
        task.id,
      ),
    });
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (error.retryable && !finalAttempt) {
      deps.logger.warn(
        { taskId: task.id, err: error.message },
        "submit failed; BullMQ retries with backoff",
      );
      throw error;
    }
    await completeTask(deps.db, {
      taskId: task.id,
      source: "worker",
      now: deps.clock.now(),
      outcome: {
        status: "failed",
        errorCode: "upstream_error",
        errorMessage: error.retryable
          ? `The upstream provider kept failing: ${error.message}`
          : `The upstream provider rejected the task: ${error.message}`,
      },
    });
    return true;
  }

  const now = deps.clock.now();
  const moved = await transitionTask(deps.db, {
    taskId: task.id,
    from: ["submitting"],
    to: "running",
    source: "worker",
    changes: {
      providerTaskId: submitted.providerTaskId,
      submittedAt: now,
      upstreamCost: submitted.upstreamCost ?? task.price,
    },
    detail: { providerTaskId: submitted.providerTaskId },
    now,
  });
  if (!moved) {
    // A callback finished the task before we recorded the submission; keep the id for audit.
    await deps.db
      .update(tasks)
      .set({ providerTaskId: submitted.providerTaskId, submittedAt: now })
      .where(and(eq(tasks.id, task.id), isNull(tasks.providerTaskId)));
    return true;
  }
  return false;
}

/** Returns true when the poll found the task ended upstream. */
async function pollOnce(deps: RunTaskDeps, task: Task): Promise<boolean> {
  const provider = deps.providers[task.provider];
  let state: ProviderTaskState;
  try {
    state = await provider.status(task.providerTaskId!);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    // The deadline bounds how long we keep asking.
    deps.logger.warn({ taskId: task.id, err: error.message }, "poll failed; polling again later");
    return false;
  }
  const outcome = outcomeOf(state);
  if (!outcome) return false;
  await completeTask(deps.db, { taskId: task.id, source: "poll", now: deps.clock.now(), outcome });
  return true;
}
