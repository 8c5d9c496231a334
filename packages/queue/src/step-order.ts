import { BATCH_START_BY_SHARE, type TaskOrder } from "@ripen/core";

/*
 * The order in which workers take task steps: earliest due first, one ordering for single
 * creates and batch items alike, kept by BullMQ's priorities. A batch item is due once
 * `BATCH_START_BY_SHARE` of its time has passed; a single create at its deadline or
 * `INTERACTIVE_HORIZON_MS` after its create, whichever comes first. So an interactive task goes
 * ahead of batch items due further off, and a batch item coming due goes ahead of interactive
 * work created after it. The 20,000-task chaos run, with batch items always behind every single
 * create, expired 90% of its admitted batch items unsubmitted while single creates kept
 * arriving. Due at their deadlines, they still started in their last minute, and any fault then
 * (a worker killed mid-submit, a Retry-After, Redis restarted) expired them.
 *
 * A task once started (its generation under way upstream, paid for) goes ahead of all of them:
 * its steps are its polls, each one can end it, and it may not be started again elsewhere. Kept
 * in line by due time with the rest, a chaos run's polls waited behind thousands of tasks due
 * earlier, and 22 tasks whose callbacks were lost expired unpolled 46 s after their submits.
 */

/** How far ahead a single create is due, at the latest: the wait an interactive client accepts. */
export const INTERACTIVE_HORIZON_MS = 60_000;

/** BullMQ's priorities run from 1 to 2^21 - 1 (0 is its wait list, taken before any of them). */
const PRIORITY_SPAN = 2 ** 21 - 1;

/** A started task's steps: BullMQ's wait list, first in first out as they come due. */
export const STARTED_TASK_PRIORITY = 0;

/** The instant a task's steps are due by, for the queue's order. */
function dueAt(task: TaskOrder): number {
  const deadline = task.deadlineAt.getTime();
  const created = task.createdAt.getTime();
  if (task.batchId) return created + BATCH_START_BY_SHARE * (deadline - created);
  return Math.min(deadline, created + INTERACTIVE_HORIZON_MS);
}

/**
 * The BullMQ priority of a step due at `ms`: whole seconds. The span wraps every 24 days; steps
 * queued across that instant are taken out of order until those queued before it have run.
 */
function priorityDueAt(ms: number): number {
  return 1 + (Math.floor(ms / 1000) % PRIORITY_SPAN);
}

/** The priority a task's steps are queued at: by due time until it is started. */
export const stepPriority = (task: TaskOrder): number =>
  task.status === "running" ? STARTED_TASK_PRIORITY : priorityDueAt(dueAt(task));
