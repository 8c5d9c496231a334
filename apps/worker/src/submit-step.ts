import {
  callbackUrlFor,
  currentAttempt,
  endAttempt,
  expiredOutcome,
  listAttempts,
  ProviderError,
  type TaskOutcome,
  taskFields,
  wasBusy,
} from "@ripen/core";
import type { Task, TaskAttempt, WaitingFor } from "@ripen/db";
import { getModel } from "@ripen/models";
import {
  candidateRoutes,
  type Provider,
  type RouteChoice,
  rankRoutes,
  waitFor,
} from "@ripen/providers";
import { firstPollDelay, nextPollDelay } from "./poll-delay";
import {
  done,
  endTaskNow,
  hintTaskChanged,
  type RunTaskDeps,
  retryPolicyOf,
  type Step,
  type StepDeps,
  untilDeadline,
} from "./task-step";

/*
 * The submit step of `task.run`: route the task to a provider with room, open an attempt, submit,
 * and decide what a refusal means (retry, fail over, fail).
 */

type Wait = { waitMs: number; waitingFor: Omit<WaitingFor, "until"> };

/**
 * The first route, best first, that is usable now and has room under its provider's limits;
 * else the shortest wait among them, and why. A task refused by a limited provider joins its
 * backlog (deadline first); once it starts anywhere it leaves the others'.
 */
async function takeRoute(
  deps: RunTaskDeps,
  task: Task,
  ranked: readonly RouteChoice[],
  states: Parameters<typeof waitFor>[1],
): Promise<{ choice: RouteChoice } | Wait> {
  let wait: Wait | undefined;
  // Backlogs this task stands in: those that refused it now, and the one it last waited for.
  const inBacklogs = new Set<string>();
  const joinsBacklog = (reason: WaitingFor["reason"]) =>
    reason === "rate_limit" || reason === "concurrency_limit";
  if (task.waitingFor && joinsBacklog(task.waitingFor.reason)) {
    inBacklogs.add(task.waitingFor.provider);
  }
  const consider = (waitMs: number, reason: WaitingFor["reason"], provider: string) => {
    if (joinsBacklog(reason)) inBacklogs.add(provider);
    if (!wait || waitMs < wait.waitMs) wait = { waitMs, waitingFor: { reason, provider } };
  };
  const starting = { taskId: task.id, deadlineMs: task.deadlineAt.getTime() };
  for (const choice of ranked) {
    const { limits, id } = choice.provider;
    const blockedFor = waitFor(choice, states);
    if (blockedFor > 0) {
      const state = states.get(id);
      const circuit = (state?.openForMs ?? 0) >= (state?.pausedForMs ?? 0);
      consider(blockedFor, circuit ? "circuit_open" : "retry_after", id);
      continue;
    }
    if (limits.maxConcurrent !== undefined) {
      const leaseMs = Math.max(1, task.deadlineAt.getTime() - deps.clock.now().getTime());
      const countsStart = limits.requestsPerMinute === undefined;
      if (
        !(await deps.health.claimSlot(id, starting, limits.maxConcurrent, leaseMs, countsStart))
      ) {
        consider(deps.poll.baseMs, "concurrency_limit", id);
        continue;
      }
    }
    if (limits.requestsPerMinute !== undefined) {
      const budgetWait = await deps.health.acquireRequest(
        id,
        limits.requestsPerMinute,
        limits.rateWindowMs,
        { ...starting, submit: true },
      );
      if (budgetWait > 0) {
        if (limits.maxConcurrent !== undefined) await deps.health.releaseSlot(id, task.id);
        consider(budgetWait, "rate_limit", id);
        continue;
      }
    }
    // It starts here: it waits in no other line. (Where admission alone placed it, it leaves
    // when it ends.)
    inBacklogs.delete(id);
    if (inBacklogs.size > 0) {
      await deps.health.leaveBacklogs([...inBacklogs], [task.id]).catch(() => {});
    }
    return { choice };
  }
  return (
    wait ?? {
      waitMs: deps.poll.baseMs,
      waitingFor: { reason: "concurrency_limit", provider: ranked[0]!.provider.id },
    }
  );
}

/**
 * After a passing failure (`retry`), the task goes on at once only if another provider is usable
 * now; if the best is still the one that just failed, it waits out this backoff instead.
 */
interface Backoff {
  provider: string;
  delayMs: number;
}

export async function submitStep(
  deps: StepDeps,
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
    await endTaskNow(deps, task, upstreamFailure(task, latest), "worker");
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
    await endTaskNow(deps, task, outcome, "worker");
    return done;
  }

  const firstUsable = ranked.find((choice) => waitFor(choice, states) === 0);
  if (backoff && (!firstUsable || firstUsable.provider.id === backoff.provider)) {
    return {
      done: false,
      delayMs: backoff.delayMs,
      waitingFor: { reason: "retry_backoff", provider: backoff.provider },
    };
  }
  const taken = await takeRoute(deps, task, ranked, states);
  if ("waitMs" in taken) {
    deps.logger.info(
      {
        event: "task.waiting",
        ...taskFields(task),
        waitMs: taken.waitMs,
        waitingFor: taken.waitingFor,
      },
      "every provider for the task is busy, paused or open; waiting",
    );
    return { done: false, delayMs: taken.waitMs, waitingFor: taken.waitingFor };
  }
  const { choice } = taken;
  const provider = choice.provider;

  // A generation that cannot be seen finished before the deadline is not paid for: the task
  // would expire all the same. A chaos run paid nanobanana (no callbacks) for 20 batch items
  // submitted 2 s before their deadlines, each first poll due after it.
  const { shortestMs: shortestGenerationMs } = await deps.health.generations.recent(
    provider.id,
    task.model,
  );
  const seenDoneAfterMs = provider.client.sendsCallbacks
    ? shortestGenerationMs
    : firstPollDelay(deps.poll, false, shortestGenerationMs);
  if (task.deadlineAt.getTime() - deps.clock.now().getTime() < seenDoneAfterMs) {
    await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
    deps.logger.info(
      { event: "task.too_late", ...taskFields(task), provider: provider.id, seenDoneAfterMs },
      "too late to finish before the deadline: expiring it without submitting",
    );
    await endTaskNow(deps, task, expiredOutcome(), "deadline");
    return done;
  }

  const attempt = await deps.attempts.open({
    task,
    provider: provider.id,
    upstreamModel: choice.route.upstreamModel,
    upstreamCost: choice.upstreamCost,
    upstreamCostMicros: choice.upstreamCostMicros,
    callbackSecret: deps.callbackSecret,
    now: deps.clock.now(),
  });
  if (!attempt) {
    await deps.health.releaseSlot(provider.id, task.id).catch(() => {});
    return done;
  }
  if (task.status !== "submitting") hintTaskChanged(deps, task.id);
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

  // The first poll's wake-up is recorded with the move to running, in the same write.
  const delayMs = untilDeadline(
    deps,
    task,
    firstPollDelay(deps.poll, provider.client.sendsCallbacks, shortestGenerationMs),
  );
  const now = deps.clock.now();
  const running = await deps.attempts.accept({
    attempt,
    providerTaskId,
    now,
    nextWakeAt: new Date(now.getTime() + delayMs),
  });
  if (running) hintTaskChanged(deps, task.id);
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
  if (running) return { done: false, delayMs, wakeRecorded: true, started: true };
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
  return waitForCallback(deps, task, attempt, deps.providers.get(attempt.provider));
}

/**
 * How much longer than the longest of a provider's recent callback-timed generations of the
 * model the callback of an unknown submit is awaited, and the least it is awaited: for quick
 * generations, many times their length. Three chaos runs (generations of 1.5 s) marked 402
 * submits unknown, and no callback came for any of them after the mark; at a minute, the tasks
 * started in the last minute before their deadlines waited them out and expired.
 */
const CALLBACK_OVERDUE_FACTOR = 3;
const CALLBACK_OVERDUE_FLOOR_MS = 20_000;

/**
 * An attempt whose outcome is unknown is never submitted again (it may be paid for already); only
 * its callback can settle it. Providers send a callback once (their documents name no retries),
 * and about as long after the submit as their other generations of the model take: once it is
 * three times later than the longest of the recent ones (at least 20 s), it was lost or the
 * submit never arrived, and the task fails, refunded, rather than hold its client to the
 * deadline. With no recent generation known there is nothing to judge by, and the deadline
 * bounds the wait. A provider that sends no callbacks leaves nothing to wait for: the task fails
 * now.
 */
async function waitForCallback(
  deps: RunTaskDeps,
  task: Task,
  attempt: TaskAttempt,
  provider: Provider | undefined,
): Promise<Step> {
  if (provider?.client.sendsCallbacks === false) {
    await endTaskNow(
      deps,
      task,
      {
        status: "failed",
        errorCode: "upstream_error",
        errorMessage: `${provider.id} may have started the task, but its answer was lost and it sends no callbacks: nothing can tell how it ended. It is not submitted again, so it is not paid for twice.`,
      },
      "worker",
    );
    return done;
  }
  const waitingFor = { reason: "callback", provider: attempt.provider } as const;
  const { longestMs } = await deps.health.generations.recent(attempt.provider, task.model);
  if (longestMs === 0) return { done: false, delayMs: deps.poll.maxMs, waitingFor };
  const awaitedMs = Math.max(CALLBACK_OVERDUE_FLOOR_MS, CALLBACK_OVERDUE_FACTOR * longestMs);
  const leftMs = attempt.startedAt.getTime() + awaitedMs - deps.clock.now().getTime();
  if (leftMs > 0) return { done: false, delayMs: Math.min(deps.poll.maxMs, leftMs), waitingFor };
  await endTaskNow(
    deps,
    task,
    {
      status: "failed",
      errorCode: "upstream_error",
      errorMessage: `${attempt.provider}'s answer to the submit was lost, and its callback has not come ${Math.round(awaitedMs / 1_000)} s after it (its recent generations of ${task.model} took at most ${Math.ceil(longestMs / 1_000)} s): the task may never have reached it. It is not submitted again, so it is not paid for twice.`,
    },
    "worker",
  );
  return done;
}

/**
 * Counts toward the provider's circuit: its own trouble (5xx, unreachable, our key refused), not
 * the task's, and not a busy signal (429 rate limit, 409 active-task limit), which pauses it.
 */
const countsAgainstProvider = (failure: ProviderError) =>
  failure.kind === "circuit" ||
  (failure.kind === "retry" && failure.options.status !== 429 && failure.options.status !== 409);

async function submitFailed(
  deps: StepDeps,
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
    return waitForCallback(deps, task, attempt, provider);
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
  await endTaskNow(
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

export function upstreamFailure(task: Task, last: TaskAttempt | null): TaskOutcome {
  return {
    status: "failed",
    errorCode: "upstream_error",
    errorMessage: `The upstream providers did not complete the task in ${task.attempts} attempts${
      last?.errorMessage ? `: ${last.errorMessage}` : "."
    }`,
  };
}
