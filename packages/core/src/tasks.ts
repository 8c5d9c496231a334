import {
  type ActiveTaskStatus,
  activeTaskStatuses,
  type Executor,
  type Task,
  type TaskOutput,
  type TaskStatus,
  type TerminalTaskStatus,
  taskEvents,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { TaskNotFound } from "./errors";
import { newId } from "./ids";
import { holdCredits, resolveHold } from "./ledger";
import { getModel, normalizeImageInput, priceOf } from "./models";

/** Postgres channel on which every transition is announced (delivered at commit). */
export const TASK_EVENTS_CHANNEL = "ripen_task_events";

export interface TaskEventNotice {
  taskId: string;
  status: TaskStatus;
}

export interface CreateTaskArgs {
  accountId: string;
  apiKeyId?: string | null;
  model: string;
  input: unknown;
  callbackUrl?: string | null;
  now?: Date;
}

/**
 * Validates, prices and inserts a task together with its credit hold, in one transaction.
 * The caller enqueues the work after commit; the sweep covers a crash in between.
 */
export async function createTask(db: Executor, args: CreateTaskArgs): Promise<Task> {
  const spec = getModel(args.model);
  const input = normalizeImageInput(spec, args.input);
  const price = priceOf(spec, input);
  const now = args.now ?? new Date();
  return withTransaction(db, async (tx) => {
    const id = newId("task", now.getTime());
    const [task] = await tx
      .insert(tasks)
      .values({
        id,
        accountId: args.accountId,
        apiKeyId: args.apiKeyId ?? null,
        model: spec.id,
        provider: spec.provider,
        input: input as unknown as Record<string, unknown>,
        price,
        callbackUrl: args.callbackUrl ?? null,
        deadlineAt: new Date(now.getTime() + spec.deadlineMs),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await holdCredits(tx, { accountId: args.accountId, taskId: id, amount: price });
    await recordEvent(tx, { taskId: id, from: null, to: "queued", source: "api" });
    return task!;
  });
}

async function recordEvent(
  tx: Executor,
  event: {
    taskId: string;
    from: TaskStatus | null;
    to: TaskStatus;
    source: string;
    detail?: Record<string, unknown>;
  },
): Promise<void> {
  await tx.insert(taskEvents).values({
    taskId: event.taskId,
    fromStatus: event.from,
    toStatus: event.to,
    source: event.source,
    detail: event.detail ?? null,
  });
  const notice: TaskEventNotice = { taskId: event.taskId, status: event.to };
  await tx.execute(sql`select pg_notify(${TASK_EVENTS_CHANNEL}, ${JSON.stringify(notice)})`);
}

type TaskChanges = Partial<
  Pick<
    Task,
    | "providerTaskId"
    | "attempts"
    | "upstreamCost"
    | "output"
    | "errorCode"
    | "errorMessage"
    | "submittedAt"
    | "completedAt"
  >
>;

/**
 * The one way a task changes state: a conditional UPDATE that succeeds only from one of `from`,
 * plus its event row. Returns null when the task was not in one of those states (someone else
 * got there first), in which case nothing was written.
 */
export async function transitionTask(
  db: Executor,
  args: {
    taskId: string;
    from: readonly TaskStatus[];
    to: TaskStatus;
    source: string;
    changes?: TaskChanges;
    detail?: Record<string, unknown>;
    now?: Date;
  },
): Promise<{ task: Task; from: TaskStatus } | null> {
  return withTransaction(db, async (tx) => {
    // Lock first so the event can name the state we left.
    const [current] = await tx
      .select({ status: tasks.status })
      .from(tasks)
      .where(and(eq(tasks.id, args.taskId), inArray(tasks.status, [...args.from])))
      .for("update");
    if (!current) return null;
    const [task] = await tx
      .update(tasks)
      .set({ ...args.changes, status: args.to, updatedAt: args.now ?? new Date() })
      .where(and(eq(tasks.id, args.taskId), eq(tasks.status, current.status)))
      .returning();
    if (!task) return null;
    await recordEvent(tx, {
      taskId: args.taskId,
      from: current.status,
      to: args.to,
      source: args.source,
      detail: args.detail,
    });
    return { task, from: current.status };
  });
}

export type TaskOutcome =
  | { status: "succeeded"; output: TaskOutput }
  | { status: "failed" | "canceled" | "expired"; errorCode: string; errorMessage: string };

/**
 * Ends a task exactly once and settles its hold in the same transaction: success captures,
 * anything else releases. The poller, the callback receiver, the canceller and the deadline
 * sweep all come through here; whoever arrives second gets `applied: false` and changes nothing.
 */
export async function completeTask(
  db: Executor,
  args: { taskId: string; outcome: TaskOutcome; source: string; now?: Date },
): Promise<{ applied: boolean; task: Task | null }> {
  const now = args.now ?? new Date();
  const { outcome } = args;
  return withTransaction(db, async (tx) => {
    const changes: TaskChanges =
      outcome.status === "succeeded"
        ? { output: outcome.output, completedAt: now, errorCode: null, errorMessage: null }
        : { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, completedAt: now };
    const moved = await transitionTask(tx, {
      taskId: args.taskId,
      from: activeTaskStatuses,
      to: outcome.status satisfies TerminalTaskStatus,
      source: args.source,
      changes,
      detail: outcome.status === "succeeded" ? undefined : { code: outcome.errorCode },
      now,
    });
    if (!moved) {
      const [task] = await tx.select().from(tasks).where(eq(tasks.id, args.taskId));
      return { applied: false, task: task ?? null };
    }
    await resolveHold(tx, {
      accountId: moved.task.accountId,
      taskId: moved.task.id,
      amount: moved.task.price,
      kind: outcome.status === "succeeded" ? "capture" : "release",
    });
    return { applied: true, task: moved.task };
  });
}

export async function findTask(db: Executor, taskId: string): Promise<Task | null> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, taskId));
  return task ?? null;
}

/** A task as its owner sees it: another account's task is indistinguishable from a missing one. */
export async function getTaskForAccount(
  db: Executor,
  accountId: string,
  taskId: string,
): Promise<Task> {
  const [task] = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, taskId), eq(tasks.accountId, accountId)));
  if (!task) throw new TaskNotFound(taskId);
  return task;
}

/** Active tasks untouched since `olderThan`: candidates for the outbox sweep. */
export async function listStaleActiveTasks(
  db: Executor,
  args: { olderThan: Date; limit: number },
): Promise<Array<{ id: string; status: ActiveTaskStatus }>> {
  const rows = await db
    .select({ id: tasks.id, status: tasks.status })
    .from(tasks)
    .where(and(inArray(tasks.status, [...activeTaskStatuses]), lt(tasks.updatedAt, args.olderThan)))
    .orderBy(tasks.updatedAt)
    .limit(args.limit);
  return rows as Array<{ id: string; status: ActiveTaskStatus }>;
}

/** Active tasks whose deadline has passed. */
export async function listOverdueTasks(
  db: Executor,
  args: { now: Date; limit: number },
): Promise<string[]> {
  const rows = await db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(inArray(tasks.status, [...activeTaskStatuses]), lt(tasks.deadlineAt, args.now)))
    .limit(args.limit);
  return rows.map((r) => r.id);
}

export function expiredOutcome(): TaskOutcome {
  return {
    status: "expired",
    errorCode: "task_expired",
    errorMessage: "The task did not finish before its deadline; its credits were refunded.",
  };
}
