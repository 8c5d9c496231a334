import {
  type AttemptResult,
  type Executor,
  openAttemptStates,
  type Task,
  type TerminalTaskStatus,
  taskAttempts,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { type EndedBatch, endBatchIfDone } from "../batch-end";
import { writeDelivery } from "../deliveries";
import { resolveHolds } from "../ledger";
import { isActiveStatus, type TaskChanges, transitionTasks } from "../task-machine";
import type { TaskOutcome } from "./outcomes";

/*
 * Where a task ends. Every ending — an upstream's success or failure learned by poll or callback,
 * a cancel, a batch's cancel, a deadline — is one transaction here: the conditional transition
 * with its event, the hold's resolution, the open attempts abandoned, the client's callback in
 * the outbox, and the batch's count. What follows the commit is `afterCommit` (after-commit.ts);
 * callers use both through a `TaskEnder` (task-ender.ts).
 */

/** What one transaction of endings committed: the input of the after-commit step. */
export interface Settlement {
  /** Who ended the tasks (`poll`, `callback`, `api`, `deadline`, …), for the log line. */
  source: string;
  /** The tasks this transaction ended, as they are now. */
  ended: Task[];
  /** The client callbacks it wrote: the tasks' own and their batches'. Enqueued after commit. */
  deliveryIds: string[];
  /** The batches whose last active item it ended. */
  endedBatches: EndedBatch[];
  /**
   * Tasks found already ended (another path got there first): their provider slot is freed
   * again after commit, which is harmless if it was.
   */
  seenEnded?: Task[];
}

export interface EndTaskArgs {
  taskId: string;
  outcome: TaskOutcome;
  source: string;
  /** The upstream attempt that reported this outcome, if one did. */
  attempt?: { number: number; providerTaskId?: string };
  now?: Date;
}

export interface TaskEnding extends Settlement {
  /** The task ended now, by this call. */
  applied: boolean;
  /**
   * For an attempt's result: `applied`; `duplicate` when the attempt already had its result;
   * `late` when it was recorded on the attempt but the task had ended or moved on to another.
   */
  attemptOutcome: "applied" | "duplicate" | "late" | null;
  task: Task | null;
  /** The task's own client callback, when this ending wrote one (it has a `callback_url`). */
  deliveryId: string | null;
}

export interface EndTasksArgs {
  taskIds: readonly string[];
  outcome: TaskOutcome;
  source: string;
  /** The event's detail, for every task of the group. */
  detail?: Record<string, unknown>;
  /** How a batch whose last active item ends here ends: `canceled` when its cancel ended it. */
  batchEndsAs?: EndedBatch["state"];
  now: Date;
}

/**
 * Ends a task exactly once and settles its hold in the same transaction: success captures,
 * anything else releases. Whoever arrives second changes nothing on the task. An attempt's
 * result is always recorded on the attempt, even when it no longer decides the task. Reuses a
 * transaction already open; the caller runs `afterCommit` once it has committed.
 */
export async function endTask(db: Executor, args: EndTaskArgs): Promise<TaskEnding> {
  const now = args.now ?? new Date();
  const { outcome, attempt } = args;
  return withTransaction(db, async (tx) => {
    const changes = changesOf(outcome, now);
    if (attempt?.providerTaskId) changes.providerTaskId = attempt.providerTaskId;
    const [moved] = await transitionTasks(tx, {
      taskIds: [args.taskId],
      to: outcome.status satisfies TerminalTaskStatus,
      source: args.source,
      changes,
      detail: {
        ...(outcome.status === "succeeded" ? {} : { code: outcome.errorCode }),
        ...(attempt ? { attempt: attempt.number } : {}),
      },
      attempt: attempt?.number,
      now,
    });
    let attemptOutcome: TaskEnding["attemptOutcome"] = null;
    if (attempt) {
      attemptOutcome = await recordAttemptResult(tx, {
        taskId: args.taskId,
        attempt,
        outcome,
        decided: moved !== undefined,
        now,
      });
    }
    if (!moved) {
      const [task] = await tx.select().from(tasks).where(eq(tasks.id, args.taskId));
      return {
        applied: false,
        attemptOutcome,
        task: task ?? null,
        deliveryId: null,
        source: args.source,
        ended: [],
        deliveryIds: [],
        endedBatches: [],
        seenEnded: task && !isActiveStatus(task.status) ? [task] : [],
      };
    }
    const settled = await settle(tx, [moved.task], outcome, now, "ended");
    return {
      applied: true,
      attemptOutcome,
      task: moved.task,
      deliveryId: settled.taskDeliveryIds.get(moved.task.id) ?? null,
      source: args.source,
      ended: [moved.task],
      deliveryIds: settled.deliveryIds,
      endedBatches: settled.endedBatches,
    };
  });
}

/**
 * Ends a group of tasks with one outcome in one transaction (a batch's cancel, a chunk at a
 * time): exactly what `endTask` does for each, with set-based statements. Tasks another path
 * ended meanwhile are skipped.
 */
export async function endTasks(db: Executor, args: EndTasksArgs): Promise<Settlement> {
  return withTransaction(db, async (tx) => {
    const moved = await transitionTasks(tx, {
      taskIds: args.taskIds,
      to: args.outcome.status,
      source: args.source,
      changes: changesOf(args.outcome, args.now),
      detail: args.detail,
      now: args.now,
    });
    const ended = moved.map((m) => m.task);
    const settled = await settle(tx, ended, args.outcome, args.now, args.batchEndsAs ?? "ended");
    return {
      source: args.source,
      ended,
      deliveryIds: settled.deliveryIds,
      endedBatches: settled.endedBatches,
    };
  });
}

function changesOf(outcome: TaskOutcome, now: Date): TaskChanges {
  return outcome.status === "succeeded"
    ? { output: outcome.output, completedAt: now, errorCode: null, errorMessage: null }
    : { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, completedAt: now };
}

/** Everything an ending writes besides the transition, for tasks the transition just ended. */
async function settle(
  tx: Executor,
  ended: Task[],
  outcome: TaskOutcome,
  now: Date,
  batchEndsAs: EndedBatch["state"],
) {
  const taskDeliveryIds = new Map<string, string>();
  const deliveryIds: string[] = [];
  const endedBatches: EndedBatch[] = [];
  if (ended.length === 0) return { taskDeliveryIds, deliveryIds, endedBatches };
  const ids = ended.map((task) => task.id);
  await resolveHolds(tx, {
    taskIds: ids,
    kind: outcome.status === "succeeded" ? "capture" : "release",
  });
  // Attempts still open when the task ends another way will not decide it any more.
  await tx
    .update(taskAttempts)
    .set({ state: "abandoned", endedAt: now })
    .where(
      and(inArray(taskAttempts.taskId, ids), inArray(taskAttempts.state, [...openAttemptStates])),
    );
  // The outbox: the client's callback exists if and only if this ending commits.
  for (const task of ended) {
    const deliveryId = await writeDelivery(tx, task, now);
    if (deliveryId) {
      taskDeliveryIds.set(task.id, deliveryId);
      deliveryIds.push(deliveryId);
    }
  }
  // The last item of a batch to end ends the batch (and writes its callback).
  const batchIds = [...new Set(ended.flatMap((task) => (task.batchId ? [task.batchId] : [])))];
  for (const batchId of batchIds.sort()) {
    const batch = await endBatchIfDone(tx, batchId, now, batchEndsAs);
    if (!batch) continue;
    endedBatches.push(batch);
    if (batch.deliveryId) deliveryIds.push(batch.deliveryId);
  }
  return { taskDeliveryIds, deliveryIds, endedBatches };
}

/** Writes an attempt's result; the first result of an attempt is kept, later copies are duplicates. */
async function recordAttemptResult(
  tx: Executor,
  args: {
    taskId: string;
    attempt: { number: number; providerTaskId?: string };
    outcome: TaskOutcome;
    decided: boolean;
    now: Date;
  },
): Promise<"applied" | "duplicate" | "late"> {
  const { outcome } = args;
  const result: AttemptResult =
    outcome.status === "succeeded"
      ? { status: "succeeded", urls: outcome.output.urls }
      : {
          status: "failed",
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        };
  const succeeded = outcome.status === "succeeded";
  const updated = await tx
    .update(taskAttempts)
    .set({
      result,
      resultAt: args.now,
      providerTaskId: sql`coalesce(${taskAttempts.providerTaskId}, ${args.attempt.providerTaskId ?? null})`,
      // The upstream refunds a failed generation (documents 000, 002).
      ...(succeeded ? {} : { upstreamCost: 0, upstreamCostMicros: 0 }),
      ...(args.decided
        ? { state: succeeded ? ("succeeded" as const) : ("failed" as const), endedAt: args.now }
        : {}),
    })
    .where(
      and(
        eq(taskAttempts.taskId, args.taskId),
        eq(taskAttempts.number, args.attempt.number),
        sql`${taskAttempts.resultAt} is null`,
      ),
    )
    .returning({ id: taskAttempts.id });
  if (updated.length === 0) return "duplicate";
  return args.decided ? "applied" : "late";
}
