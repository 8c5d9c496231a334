import type { TaskOrder } from "@ripen/core";

/*
 * The order in which workers take task steps: earliest deadline first, one ordering for single
 * creates and batch items alike, kept by BullMQ's priorities. A batch item is due at its deadline;
 * a single create at its deadline or `INTERACTIVE_HORIZON_MS` after its create, whichever comes
 * first, so an interactive task goes ahead of batch items whose deadline is further off, and a
 * batch item whose deadline comes near goes ahead of interactive work created after it. The
 * 20,000-task chaos run, with batch items always behind every single create, expired 90% of its
 * admitted batch items unsubmitted while single creates kept arriving.
 */

/** How far ahead a single create is due, at the latest: the wait an interactive client accepts. */
export const INTERACTIVE_HORIZON_MS = 60_000;

/** BullMQ's priorities run from 1 to 2^21 - 1 (0 is its wait list, taken before any of them). */
const PRIORITY_SPAN = 2 ** 21 - 1;

/** The instant a task's steps are due by, for the queue's order. */
function dueAt(task: TaskOrder): number {
  const deadline = task.deadlineAt.getTime();
  if (task.batchId) return deadline;
  return Math.min(deadline, task.createdAt.getTime() + INTERACTIVE_HORIZON_MS);
}

/**
 * The BullMQ priority of a step due at `ms`: whole seconds. The span wraps every 24 days; steps
 * queued across that instant are taken out of order until those queued before it have run.
 */
function priorityDueAt(ms: number): number {
  return 1 + (Math.floor(ms / 1000) % PRIORITY_SPAN);
}

/** The priority a task's steps are queued at until it is submitted. */
export const stepPriority = (task: TaskOrder): number => priorityDueAt(dueAt(task));

/**
 * The priority of a submitted batch item's polls: due when they wake, so a started item is polled
 * ahead of its batch's items not yet submitted (they share its deadline). A single create's polls
 * keep its own priority, which is already ahead of everything created after it.
 */
export const polledBatchItemPriority = (wakeAtMs: number): number => priorityDueAt(wakeAtMs);
