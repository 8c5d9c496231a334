import type { AttemptWriter, Clock, TaskEnder, TaskOutcome } from "@ripen/core";
import type { Executor, Task, TaskAttempt, WaitingFor } from "@ripen/db";
import type { ProviderHealth, Providers } from "@ripen/providers";
import type { TaskNotifier } from "@ripen/queue";
import type { Logger } from "pino";
import type { PollPolicy } from "./poll-delay";

/*
 * What the steps of the `task.run` job share: their dependencies, what a step decides, and how a
 * step that decides a task ends says so.
 */

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
  /** How a task ends (and everything after its commit): the process's one task ender. */
  ender: TaskEnder;
  /**
   * Opens and accepts attempts, a group of concurrent jobs per statement; `createRunTask` makes
   * one for its jobs when none is given.
   */
  attempts?: AttemptWriter;
  /** Told each time a task is handed to a provider (the pace admission control divides by). */
  onTaskStarted?(): void;
}

/** The dependencies as the steps see them, the attempt writer settled. */
export type StepDeps = RunTaskDeps & { attempts: AttemptWriter };

/**
 * What a step decided: the task is settled (or not ours), or the job sleeps this long. A step
 * that already recorded the task's next wake-up with its own write says so (`wakeRecorded`).
 */
export type Step =
  | { done: true }
  | {
      done: false;
      delayMs: number;
      wakeRecorded?: boolean;
      /** This step handed the task to a provider. */
      started?: true;
      /** Why the task waits to be submitted, recorded with its wake-up (none while it runs). */
      waitingFor?: Omit<WaitingFor, "until">;
    };
export const done: Step = { done: true };

export const retryPolicyOf = (deps: RunTaskDeps) => deps.retry ?? defaultRetryPolicy;

/** A wait cut to end by the task's deadline, so expiry is on time. */
export const untilDeadline = (deps: RunTaskDeps, task: Task, delayMs: number) =>
  Math.max(0, Math.min(delayMs, task.deadlineAt.getTime() - deps.clock.now().getTime()));

/**
 * Tells live-status streams the task changed, without holding the step: the hint is sent after
 * the commit all the same, and a failed one never fails the step.
 */
export function hintTaskChanged(deps: RunTaskDeps, taskId: string): void {
  deps.notifier?.taskChanged(taskId).catch(() => {});
}

/** A step decided the task ends: the process's task ender does the rest. */
export async function endTaskNow(
  deps: RunTaskDeps,
  task: Task,
  outcome: TaskOutcome,
  source: string,
  attempt?: TaskAttempt,
): Promise<void> {
  await deps.ender.end(deps.db, {
    taskId: task.id,
    outcome,
    source,
    now: deps.clock.now(),
    batchItem: task.batchId !== null,
    attempt: attempt
      ? { number: attempt.number, providerTaskId: attempt.providerTaskId ?? undefined }
      : undefined,
  });
}
