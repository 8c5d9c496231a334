import {
  acceptAttempt,
  type Clock,
  callbackUrlFor,
  clearNotFound,
  completeTask,
  currentAttempt,
  endAttempt,
  expiredOutcome,
  findTask,
  type ImageInput,
  isActiveStatus,
  logTaskEnded,
  noteNotFound,
  openAttempt,
  outcomeOf,
  ProviderError,
  type ProviderRegistry,
  type ProviderTaskState,
  setNextWake,
  type TaskOutcome,
  taskFields,
} from "@ripen/core";
import type { Executor, Task, TaskAttempt } from "@ripen/db";
import type { JobPayload } from "@ripen/queue";
import { DelayedError, type Job } from "bullmq";
import type { Logger } from "pino";
import { nextPollDelay, type PollPolicy } from "./poll-delay";

/** Upstream submissions per task, counted in Postgres so a re-added job cannot reset them. */
export interface RetryPolicy {
  /** Attempts a task may open in all (submit retries and replacements of lost tasks). */
  maxAttempts: number;
  /** Wait before retrying a refused submission, doubling per attempt, capped at `maxMs`. */
  baseMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseMs: 2_000, maxMs: 60_000 };

export interface RunTaskDeps {
  db: Executor;
  providers: ProviderRegistry;
  clock: Clock;
  logger: Logger;
  poll: PollPolicy;
  retry?: RetryPolicy;
  callbackBaseUrl: string;
  callbackSecret: string;
  /** Polls in a row that must find the upstream task missing before it counts as lost (2). */
  notFoundConfirmations?: number;
  random?: () => number;
}

/** What a step decided: the task is settled (or not ours), or the job sleeps this long. */
type Step = { done: true } | { done: false; delayMs: number; firstPoll?: boolean };
const done: Step = { done: true };

/**
 * The `task.run` step job. It reads the task and acts on its state, so running it twice, or after
 * a crash, is harmless: queued/submitting → submit (or recover the open attempt), running → poll,
 * ended → nothing. Between steps the job parks itself in the delayed set and the task records
 * when it expects to wake (`next_wake_at`), which is how the sweep tells a lost job from a
 * sleeping one.
 */
export function createRunTask(deps: RunTaskDeps) {
  return async function runTask(job: Job<JobPayload<"task.run">>, token?: string): Promise<void> {
    const task = await findTask(deps.db, job.data.taskId);
    if (!task || !isActiveStatus(task.status)) return;

    const now = deps.clock.now();
    if (now >= task.deadlineAt) {
      await end(deps, task, expiredOutcome(), "deadline");
      return;
    }

    const step =
      task.status === "running"
        ? await pollStep(deps, task, job.data.polls)
        : await submitStep(deps, task);
    if (step.done) return;

    // Wake no later than the deadline, so expiry is on time.
    const delay = Math.max(
      0,
      Math.min(step.delayMs, task.deadlineAt.getTime() - deps.clock.now().getTime()),
    );
    await setNextWake(deps.db, task.id, new Date(deps.clock.now().getTime() + delay));
    await job.updateData({ ...job.data, polls: step.firstPoll ? 0 : job.data.polls + 1 });
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  };
}

async function end(
  deps: RunTaskDeps,
  task: Task,
  outcome: TaskOutcome,
  source: string,
  attempt?: TaskAttempt,
): Promise<void> {
  const result = await completeTask(deps.db, {
    taskId: task.id,
    outcome,
    source,
    now: deps.clock.now(),
    attempt: attempt
      ? { number: attempt.number, providerTaskId: attempt.providerTaskId ?? undefined }
      : undefined,
  });
  if (result.applied && result.task) logTaskEnded(deps.logger, result.task, source);
}

const retryPolicyOf = (deps: RunTaskDeps) => deps.retry ?? defaultRetryPolicy;

async function submitStep(deps: RunTaskDeps, task: Task): Promise<Step> {
  const latest = await currentAttempt(deps.db, task.id);
  if (latest && latest.number === task.attempts && ["sending", "unknown"].includes(latest.state)) {
    return awaitUnknownOutcome(deps, task, latest);
  }

  const retry = retryPolicyOf(deps);
  if (task.attempts >= retry.maxAttempts) {
    await end(deps, task, upstreamFailure(task, latest), "worker");
    return done;
  }

  const provider = deps.providers[task.provider];
  const input = task.input as unknown as ImageInput;
  const attempt = await openAttempt(deps.db, {
    task,
    provider: task.provider,
    upstreamModel: provider.upstreamModel(task.model),
    upstreamCost: provider.upstreamCost(task.model, input),
    callbackSecret: deps.callbackSecret,
    now: deps.clock.now(),
  });
  if (!attempt) return done;
  const logFields = { ...taskFields(task), attempt: attempt.number };

  let providerTaskId: string;
  try {
    ({ providerTaskId } = await provider.submit({
      taskId: task.id,
      model: attempt.upstreamModel,
      input,
      callbackUrl: callbackUrlFor(
        deps.callbackBaseUrl,
        deps.callbackSecret,
        task.provider,
        task.id,
        attempt.number,
      ),
    }));
  } catch (error) {
    return submitFailed(deps, task, attempt, error);
  }

  const running = await acceptAttempt(deps.db, { attempt, providerTaskId, now: deps.clock.now() });
  deps.logger.info(
    { event: "task.submitted", ...logFields, providerTaskId, upstreamCost: attempt.upstreamCost },
    "task submitted",
  );
  // Not running: a callback settled it first, or it was canceled meanwhile.
  return running ? { done: false, delayMs: deps.poll.baseMs, firstPoll: true } : done;
}

/**
 * A previous run sent this attempt, or may have, and never recorded the answer (it crashed, or
 * the call timed out). Submitting again could pay for a second generation, so the attempt stays
 * open: its callback URL can still settle the task, and the deadline bounds the wait.
 */
async function awaitUnknownOutcome(
  deps: RunTaskDeps,
  task: Task,
  attempt: TaskAttempt,
): Promise<Step> {
  if (attempt.state === "sending") {
    await endAttempt(deps.db, {
      attemptId: attempt.id,
      state: "unknown",
      kind: "unknown",
      errorMessage: "The worker stopped before it recorded the upstream's answer.",
      now: deps.clock.now(),
    });
    deps.logger.warn(
      { event: "attempt.failed", ...taskFields(task), attempt: attempt.number, kind: "unknown" },
      "attempt outcome unknown; waiting for its callback instead of submitting again",
    );
  }
  return { done: false, delayMs: deps.poll.maxMs };
}

async function submitFailed(
  deps: RunTaskDeps,
  task: Task,
  attempt: TaskAttempt,
  error: unknown,
): Promise<Step> {
  // Anything but a classified provider answer may have happened after the request left.
  const failure =
    error instanceof ProviderError
      ? error
      : new ProviderError(`submit failed: ${(error as Error)?.message ?? error}`, {
          kind: "unknown",
        });
  const kind = failure.kind;
  const fields = {
    event: "attempt.failed",
    ...taskFields(task),
    attempt: attempt.number,
    kind,
    status: failure.options.status,
    code: failure.options.code,
    err: failure.message,
  };
  if (kind === "unknown") {
    await endAttempt(deps.db, {
      attemptId: attempt.id,
      state: "unknown",
      kind,
      errorCode: failure.options.code,
      errorMessage: failure.message,
      now: deps.clock.now(),
    });
    deps.logger.warn(fields, "submit outcome unknown; waiting for its callback");
    return { done: false, delayMs: deps.poll.maxMs };
  }

  await endAttempt(deps.db, {
    attemptId: attempt.id,
    state: "rejected",
    kind,
    errorCode: failure.options.code,
    errorMessage: failure.message,
    now: deps.clock.now(),
  });
  if (kind === "circuit") {
    deps.logger.error({ ...fields, alert: true }, "provider refused our key or account");
  } else {
    deps.logger.warn(fields, "submit failed");
  }

  const retry = retryPolicyOf(deps);
  if (kind === "retry" && attempt.number < retry.maxAttempts) {
    const backoff = nextPollDelay(attempt.number - 1, retry, deps.random);
    return { done: false, delayMs: Math.max(backoff, failure.options.retryAfterMs ?? 0) };
  }
  await end(
    deps,
    task,
    {
      status: "failed",
      errorCode: "upstream_error",
      errorMessage:
        kind === "retry"
          ? `The upstream provider kept failing: ${failure.message}`
          : `The upstream provider rejected the task: ${failure.message}`,
    },
    "worker",
  );
  return done;
}

function upstreamFailure(task: Task, last: TaskAttempt | null): TaskOutcome {
  return {
    status: "failed",
    errorCode: "upstream_error",
    errorMessage: `The upstream provider did not complete the task in ${task.attempts} attempts${
      last?.errorMessage ? `: ${last.errorMessage}` : "."
    }`,
  };
}

async function pollStep(deps: RunTaskDeps, task: Task, polls: number): Promise<Step> {
  const attempt = await currentAttempt(deps.db, task.id);
  if (!attempt?.providerTaskId) {
    deps.logger.error(
      { ...taskFields(task), attempt: attempt?.number },
      "running task has no accepted attempt; opening a new one",
    );
    return submitStep(deps, task);
  }
  const provider = deps.providers[task.provider];
  const fields = { ...taskFields(task), attempt: attempt.number };
  let state: ProviderTaskState;
  try {
    state = await provider.status(attempt.providerTaskId);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const log = error.kind === "circuit" ? deps.logger.error : deps.logger.warn;
    log.call(
      deps.logger,
      {
        ...fields,
        kind: error.kind,
        err: error.message,
        ...(error.kind === "circuit" ? { alert: true } : {}),
      },
      "poll failed; polling again later",
    );
    return { done: false, delayMs: nextPollDelay(polls, deps.poll, deps.random) };
  }

  if (state.state === "not_found") {
    const misses = await noteNotFound(deps.db, attempt.id);
    if (misses < (deps.notFoundConfirmations ?? 2)) {
      deps.logger.warn({ ...fields, misses }, "upstream does not know the task; asking again soon");
      return { done: false, delayMs: deps.poll.baseMs };
    }
    await endAttempt(deps.db, {
      attemptId: attempt.id,
      state: "lost",
      kind: "retry",
      errorCode: "task_not_found",
      errorMessage: "The upstream no longer knows the task it accepted.",
      from: ["accepted"],
      now: deps.clock.now(),
    });
    deps.logger.warn(
      { event: "attempt.failed", ...fields, kind: "retry", code: "task_not_found" },
      "upstream lost the task",
    );
    return submitStep(deps, task);
  }

  await clearNotFound(deps.db, attempt);
  const outcome = outcomeOf(state);
  if (!outcome) return { done: false, delayMs: nextPollDelay(polls, deps.poll, deps.random) };
  await end(deps, task, outcome, "poll", attempt);
  return done;
}
