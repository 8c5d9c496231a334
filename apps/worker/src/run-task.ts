import {
  acceptAttempt,
  type Clock,
  callbackUrlFor,
  clearNotFound,
  completeTask,
  currentAttempt,
  type EnqueueDelivery,
  endAttempt,
  enqueueDeliveryOf,
  expiredOutcome,
  failAttempt,
  findTask,
  isActiveStatus,
  listAttempts,
  logTaskEnded,
  noteNotFound,
  openAttempt,
  outcomeOf,
  ProviderError,
  type ProviderTaskState,
  setNextWake,
  type TaskOutcome,
  taskFields,
  wasBusy,
} from "@ripen/core";
import type { Executor, Task, TaskAttempt } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  candidateRoutes,
  type Provider,
  type ProviderHealth,
  type Providers,
  type RouteChoice,
  rankRoutes,
  waitFor,
} from "@ripen/providers";
import { BATCH_POLL_PRIORITY, type JobPayload, type TaskNotifier } from "@ripen/queue";
import { DelayedError, type Job } from "bullmq";
import type { Logger } from "pino";
import { nextPollDelay, type PollPolicy } from "./poll-delay";

/** Upstream submissions per task, counted in Postgres so a re-added job cannot reset them. */
export interface RetryPolicy {
  /** Attempts a task may open in all (retries, failovers, replacements of lost tasks). */
  maxAttempts: number;
  /** Wait before retrying a refused submission, doubling per attempt, capped at `maxMs`. */
  baseMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseMs: 2_000, maxMs: 60_000 };

export interface RunTaskDeps {
  db: Executor;
  providers: Providers;
  /** Circuits, Retry-After pauses and limits shared by every worker process. */
  health: ProviderHealth;
  clock: Clock;
  logger: Logger;
  poll: PollPolicy;
  retry?: RetryPolicy;
  callbackBaseUrl: string;
  callbackSecret: string;
  /** Polls in a row that must find the upstream task missing before it counts as lost (2). */
  notFoundConfirmations?: number;
  random?: () => number;
  /** Tells live-status streams a transition committed (a hint; it never fails the work). */
  notifier?: TaskNotifier;
  /** Adds the job of the client callback an ending wrote; the sweep covers a failed add. */
  enqueueDelivery?: EnqueueDelivery;
}

/** What a step decided: the task is settled (or not ours), or the job sleeps this long. */
type Step = { done: true } | { done: false; delayMs: number; firstPoll?: boolean };
const done: Step = { done: true };

/**
 * The `task.run` step job. It reads the task and acts on its state, so running it twice, or after
 * a crash, is harmless: queued/submitting → route and submit (or recover the open attempt),
 * running → poll, ended → nothing. Between steps the job parks itself in the delayed set and the
 * task records when it expects to wake (`next_wake_at`), which is how the sweep tells a lost job
 * from a sleeping one. A provider's limits park only that provider's tasks: the job waits in the
 * delayed set, never in a queue-wide rate limit.
 */
export function createRunTask(deps: RunTaskDeps) {
  return async function runTask(job: Job<JobPayload<"task.run">>, token?: string): Promise<void> {
    const task = await findTask(deps.db, job.data.taskId);
    if (!task) return;
    if (!isActiveStatus(task.status)) {
      // Ended elsewhere (its callback, a cancel): its slot at the provider is free again.
      if (task.provider) await deps.health.releaseSlot(task.provider, task.id);
      return;
    }

    const now = deps.clock.now();
    if (now >= task.deadlineAt) {
      await end(deps, task, expiredOutcome(), "deadline");
      return;
    }

    const latest = await currentAttempt(deps.db, task.id);
    const step =
      task.status === "running" && latest?.state === "accepted" && latest.providerTaskId
        ? await pollStep(deps, task, latest, job.data.polls)
        : await submitStep(deps, task, latest);
    if (step.done) return;

    // Wake no later than the deadline, so expiry is on time.
    const delay = Math.max(
      0,
      Math.min(step.delayMs, task.deadlineAt.getTime() - deps.clock.now().getTime()),
    );
    await setNextWake(deps.db, task.id, new Date(deps.clock.now().getTime() + delay));
    await job.updateData({ ...job.data, polls: step.firstPoll ? 0 : job.data.polls + 1 });
    // A batch item's polls run ahead of its batch's items not yet submitted (the priority is
    // kept through the delayed set); an interactive job (priority 0) is left as it is.
    if (job.priority > BATCH_POLL_PRIORITY) {
      await job.changePriority({ priority: BATCH_POLL_PRIORITY });
    }
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
  if (result.applied) await deps.notifier?.taskChanged(task.id);
  await enqueueDeliveryOf(result, deps.enqueueDelivery, deps.logger);
  if (task.provider) await deps.health.releaseSlot(task.provider, task.id).catch(() => {});
  if (result.applied && result.task) logTaskEnded(deps.logger, result.task, source);
}

const retryPolicyOf = (deps: RunTaskDeps) => deps.retry ?? defaultRetryPolicy;

/** The first route, best first, that is usable now and has room under its provider's limits. */
async function takeRoute(
  deps: RunTaskDeps,
  task: Task,
  ranked: readonly RouteChoice[],
  states: Parameters<typeof waitFor>[1],
): Promise<{ choice: RouteChoice } | { waitMs: number }> {
  let waitMs = Number.POSITIVE_INFINITY;
  for (const choice of ranked) {
    const blockedFor = waitFor(choice, states);
    if (blockedFor > 0) {
      waitMs = Math.min(waitMs, blockedFor);
      continue;
    }
    const { limits, id } = choice.provider;
    if (limits.maxConcurrent !== undefined) {
      const leaseMs = Math.max(1, task.deadlineAt.getTime() - deps.clock.now().getTime());
      if (!(await deps.health.claimSlot(id, task.id, limits.maxConcurrent, leaseMs))) {
        waitMs = Math.min(waitMs, deps.poll.baseMs);
        continue;
      }
    }
    if (limits.requestsPerMinute !== undefined) {
      const budgetWait = await deps.health.acquireRequest(
        id,
        limits.requestsPerMinute,
        limits.rateWindowMs,
      );
      if (budgetWait > 0) {
        if (limits.maxConcurrent !== undefined) await deps.health.releaseSlot(id, task.id);
        waitMs = Math.min(waitMs, budgetWait);
        continue;
      }
    }
    return { choice };
  }
  return { waitMs: Number.isFinite(waitMs) ? waitMs : deps.poll.baseMs };
}

/**
 * After a passing failure (`retry`), the task goes on at once only if another provider is usable
 * now; if the best is still the one that just failed, it waits out this backoff instead.
 */
interface Backoff {
  provider: string;
  delayMs: number;
}

async function submitStep(
  deps: RunTaskDeps,
  task: Task,
  latest: TaskAttempt | null,
  backoff?: Backoff,
): Promise<Step> {
  if (latest && latest.number === task.attempts && ["sending", "unknown"].includes(latest.state)) {
    return awaitUnknownOutcome(deps, task, latest);
  }

  const history = task.attempts > 0 ? await listAttempts(deps.db, task.id) : [];
  // Refusals for being busy (409, 429) wait; they do not use up the budget.
  const spent = history.filter((attempt) => !wasBusy(attempt)).length;
  if (spent >= retryPolicyOf(deps).maxAttempts) {
    await end(deps, task, upstreamFailure(task, latest), "worker");
    return done;
  }

  const spec = getModel(task.model);
  const candidates = candidateRoutes(spec, task.input, deps.providers);
  const states = await deps.health.states(candidates.map((c) => c.provider.id));
  const { ranked, excluded } = rankRoutes(candidates, states, history);
  if (ranked.length === 0) {
    const outcome: TaskOutcome =
      candidates.length === 0
        ? {
            status: "failed",
            errorCode: "upstream_error",
            errorMessage: "No configured provider serves this model with this input.",
          }
        : upstreamFailure(task, latest);
    deps.logger.warn(
      { event: "task.unroutable", ...taskFields(task), excluded },
      "no provider left to try",
    );
    await end(deps, task, outcome, "worker");
    return done;
  }

  const firstUsable = ranked.find((choice) => waitFor(choice, states) === 0);
  if (backoff && (!firstUsable || firstUsable.provider.id === backoff.provider)) {
    return { done: false, delayMs: backoff.delayMs };
  }
  const taken = await takeRoute(deps, task, ranked, states);
  if ("waitMs" in taken) {
    deps.logger.info(
      { event: "task.waiting", ...taskFields(task), waitMs: taken.waitMs },
      "every provider for the task is busy, paused or open; waiting",
    );
    return { done: false, delayMs: taken.waitMs };
  }
  const { choice } = taken;
  const provider = choice.provider;

  const attempt = await openAttempt(deps.db, {
    task,
    provider: provider.id,
    upstreamModel: choice.route.upstreamModel,
    upstreamCost: choice.upstreamCost,
    upstreamCostMicros: choice.upstreamCostMicros,
    callbackSecret: deps.callbackSecret,
    now: deps.clock.now(),
  });
  if (task.status !== "submitting") await deps.notifier?.taskChanged(task.id);
  if (!attempt) {
    await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
    return done;
  }
  const routed = { ...task, provider: provider.id };
  const logFields = { ...taskFields(routed), attempt: attempt.number };

  let providerTaskId: string;
  try {
    ({ providerTaskId } = await provider.client.submit({
      taskId: task.id,
      upstreamModel: attempt.upstreamModel,
      input: choice.input,
      callbackUrl: provider.client.sendsCallbacks
        ? callbackUrlFor(
            deps.callbackBaseUrl,
            deps.callbackSecret,
            provider.id,
            task.id,
            attempt.number,
          )
        : null,
    }));
  } catch (error) {
    return submitFailed(deps, routed, provider, attempt, error);
  }
  await deps.health.recordSuccess(provider.id);

  const running = await acceptAttempt(deps.db, { attempt, providerTaskId, now: deps.clock.now() });
  if (running) await deps.notifier?.taskChanged(task.id);
  deps.logger.info(
    {
      event: "task.submitted",
      ...logFields,
      providerTaskId,
      upstreamModel: attempt.upstreamModel,
      upstreamCost: attempt.upstreamCost,
      upstreamCostMicros: attempt.upstreamCostMicros,
    },
    "task submitted",
  );
  if (running) return { done: false, delayMs: deps.poll.baseMs, firstPoll: true };
  // Not running: a callback settled it first, or it was canceled meanwhile. This job ends here,
  // so it frees the slot now (no later run of it will find the task ended and free it).
  await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
  return done;
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

/**
 * Counts toward the provider's circuit: its own trouble (5xx, unreachable, our key refused), not
 * the task's, and not a busy signal (429 rate limit, 409 active-task limit), which pauses it.
 */
const countsAgainstProvider = (failure: ProviderError) =>
  failure.kind === "circuit" ||
  (failure.kind === "retry" && failure.options.status !== 429 && failure.options.status !== 409);

async function submitFailed(
  deps: RunTaskDeps,
  task: Task,
  provider: Provider,
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
    upstreamStatus: failure.options.status,
    now: deps.clock.now(),
  });
  await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
  if (failure.options.retryAfterMs)
    await deps.health.pause(provider.id, failure.options.retryAfterMs);
  const openForMs = countsAgainstProvider(failure)
    ? await deps.health.recordFailure(provider.id, kind, failure.message)
    : 0;
  if (kind === "circuit") {
    deps.logger.error({ ...fields, alert: true, openForMs }, "provider refused our key or account");
  } else {
    deps.logger.warn({ ...fields, openForMs }, "submit failed");
  }

  const retry = retryPolicyOf(deps);
  if (kind !== "fail") {
    // Another provider is tried at once. The same one is tried again only after a backoff, or
    // after its Retry-After, which `pause` holds every worker to; after failover or circuit,
    // never for this task.
    const backoff =
      kind === "retry"
        ? {
            provider: provider.id,
            delayMs: Math.max(
              nextPollDelay(attempt.number - 1, retry, deps.random),
              failure.options.retryAfterMs ?? 0,
            ),
          }
        : undefined;
    // submitStep ends the task once the attempts are used up.
    const submitting = { ...task, status: "submitting" as const, attempts: attempt.number };
    return submitStep(deps, submitting, await currentAttempt(deps.db, task.id), backoff);
  }
  await end(
    deps,
    task,
    {
      status: "failed",
      errorCode: "upstream_error",
      errorMessage: `The upstream provider rejected the task: ${failure.message}`,
    },
    "worker",
  );
  return done;
}

function upstreamFailure(task: Task, last: TaskAttempt | null): TaskOutcome {
  return {
    status: "failed",
    errorCode: "upstream_error",
    errorMessage: `The upstream providers did not complete the task in ${task.attempts} attempts${
      last?.errorMessage ? `: ${last.errorMessage}` : "."
    }`,
  };
}

async function pollStep(
  deps: RunTaskDeps,
  task: Task,
  attempt: TaskAttempt,
  polls: number,
): Promise<Step> {
  const provider = deps.providers.get(attempt.provider);
  const fields = { ...taskFields(task), attempt: attempt.number };
  if (!provider) {
    // Its provider was removed from the configuration: only its callback can still settle it.
    deps.logger.warn(fields, "the attempt's provider is no longer configured; not polling it");
    return { done: false, delayMs: deps.poll.maxMs };
  }
  // Status polls count against a provider's request budget like submits (document 001).
  if (provider.limits.requestsPerMinute !== undefined) {
    const wait = await deps.health.acquireRequest(
      provider.id,
      provider.limits.requestsPerMinute,
      provider.limits.rateWindowMs,
    );
    if (wait > 0)
      return { done: false, delayMs: Math.max(wait, nextPollDelay(polls, deps.poll, deps.random)) };
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
      delayMs: Math.max(
        nextPollDelay(polls, deps.poll, deps.random),
        error.options.retryAfterMs ?? 0,
      ),
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
  if (!outcome) return { done: false, delayMs: nextPollDelay(polls, deps.poll, deps.random) };
  await end(deps, task, outcome, "poll", attempt);
  return done;
}

/**
 * The upstream ended the attempt failed in a way another provider may not (its own outage, a
 * failed generation it refunds): record it on the attempt and try the next provider, keeping the
 * task and its hold. With no attempts or providers left, the task fails and is refunded.
 */
async function attemptFailedUpstream(
  deps: RunTaskDeps,
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
  await deps.health.recordFailure(provider, "retry", state.errorMessage);
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
