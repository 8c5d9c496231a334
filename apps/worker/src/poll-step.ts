import {
  clearNotFound,
  currentAttempt,
  endAttempt,
  failAttempt,
  noteNotFound,
  outcomeOf,
  ProviderError,
  type ProviderTaskState,
  recordPoll,
  taskFields,
} from "@ripen/core";
import type { Task, TaskAttempt } from "@ripen/db";
import { pollAgainIn } from "./poll-delay";
import { submitStep } from "./submit-step";
import { done, endTaskNow, type Step, type StepDeps } from "./task-step";

/*
 * The poll step of `task.run`: ask the upstream how the running attempt is doing, and act on its
 * answer (wait, end the task, fail over, replace a task the upstream lost).
 */

export async function pollStep(deps: StepDeps, task: Task, attempt: TaskAttempt): Promise<Step> {
  const provider = deps.providers.get(attempt.provider);
  const acceptedAt = attempt.acceptedAt ?? attempt.startedAt;
  const pollAgain = () =>
    pollAgainIn(deps.clock.now().getTime() - acceptedAt.getTime(), deps.poll, deps.random);
  const fields = { ...taskFields(task), attempt: attempt.number };
  if (!provider) {
    // Its provider was removed from the configuration: only its callback can still settle it.
    deps.logger.warn(fields, "the attempt's provider is no longer configured; not polling it");
    return { done: false, delayMs: deps.poll.maxMs };
  }
  // Status polls count against a provider's request budget like submits (document 001), and
  // wait their turn by deadline among them.
  if (provider.limits.requestsPerMinute !== undefined) {
    const wait = await deps.health.acquireRequest(
      provider.id,
      provider.limits.requestsPerMinute,
      provider.limits.rateWindowMs,
      { taskId: task.id, deadlineMs: task.deadlineAt.getTime(), submit: false },
    );
    if (wait > 0) return { done: false, delayMs: Math.max(wait, pollAgain()) };
    // Counted in Postgres too, for a Redis that restarts empty; without it the poll still goes.
    await recordPoll(deps.db, {
      provider: provider.id,
      taskId: task.id,
      now: deps.clock.now(),
    }).catch((error) =>
      deps.logger.warn({ ...fields, err: error }, "poll not recorded (postgres)"),
    );
  }

  let state: ProviderTaskState;
  try {
    state = await provider.client.status(attempt.providerTaskId!, attempt.upstreamModel);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.options.retryAfterMs)
      await deps.health.pause(provider.id, error.options.retryAfterMs);
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
    return {
      done: false,
      delayMs: Math.max(pollAgain(), error.options.retryAfterMs ?? 0),
    };
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
    await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
    deps.logger.warn(
      { event: "attempt.failed", ...fields, kind: "retry", code: "task_not_found" },
      "upstream lost the task",
    );
    return submitStep(deps, task, await currentAttempt(deps.db, task.id));
  }

  await clearNotFound(deps.db, attempt);
  if (state.state === "failed" && state.kind === "failover") {
    return attemptFailedUpstream(deps, task, attempt, state);
  }
  const outcome = outcomeOf(state);
  if (!outcome) return { done: false, delayMs: pollAgain() };
  await endTaskNow(deps, task, outcome, "poll", attempt);
  if (state.state === "succeeded") await deps.health.recordSuccess(provider.id);
  return done;
}

/**
 * The upstream ended the attempt failed in a way another provider may not (its own outage, a
 * failed generation it refunds): record it on the attempt and try the next provider, keeping the
 * task and its hold. With no attempts or providers left, the task fails and is refunded.
 */
async function attemptFailedUpstream(
  deps: StepDeps,
  task: Task,
  attempt: TaskAttempt,
  state: Extract<ProviderTaskState, { state: "failed" }>,
): Promise<Step> {
  const provider = attempt.provider;
  const recorded = await failAttempt(deps.db, {
    taskId: task.id,
    attempt: { number: attempt.number, providerTaskId: attempt.providerTaskId ?? undefined },
    kind: "failover",
    errorCode: state.errorCode,
    errorMessage: state.errorMessage,
    now: deps.clock.now(),
  });
  await deps.health.releaseSlot(provider, task.id).catch(() => {});
  await deps.health.recordFailure(provider, "retry", state.errorMessage, "generation");
  deps.logger.warn(
    {
      event: "attempt.failed",
      ...taskFields(task),
      attempt: attempt.number,
      kind: "failover",
      code: state.errorCode,
      err: state.errorMessage,
      recorded,
    },
    "upstream failed the attempt; trying another provider",
  );
  return submitStep(deps, task, await currentAttempt(deps.db, task.id));
}
