import {
  type AttemptState,
  type Executor,
  type FailureKind,
  type ProviderId,
  type Task,
  type TaskAttempt,
  taskAttempts,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { newId } from "./ids";
import { callbackToken } from "./provider";
import { transitionTask } from "./task-machine";

/** The task's latest attempt, if it has one. */
export async function currentAttempt(db: Executor, taskId: string): Promise<TaskAttempt | null> {
  const [attempt] = await db
    .select()
    .from(taskAttempts)
    .where(eq(taskAttempts.taskId, taskId))
    .orderBy(desc(taskAttempts.number))
    .limit(1);
  return attempt ?? null;
}

export async function findAttempt(
  db: Executor,
  taskId: string,
  number: number,
): Promise<TaskAttempt | null> {
  const [attempt] = await db
    .select()
    .from(taskAttempts)
    .where(and(eq(taskAttempts.taskId, taskId), eq(taskAttempts.number, number)));
  return attempt ?? null;
}

/**
 * Opens the task's next attempt before anything is sent upstream: moves the task to submitting,
 * numbers the attempt from the task's counter, supersedes an earlier attempt still open (its
 * outcome unknown), and writes the attempt row with its callback token and the upstream's
 * price. Returns null when the task is no longer active or another run opened an attempt first.
 */
export async function openAttempt(
  db: Executor,
  args: {
    /**
     * The task as this run read it. The attempt opens only if the task is still in that status
     * with that many attempts, so two runners of one task (a job re-added while the first still
     * ran) cannot both submit, whatever they read in between.
     */
    task: Pick<Task, "id" | "attempts" | "status">;
    provider: ProviderId;
    upstreamModel: string;
    /** In the provider's credits, and in millionths of a dollar. */
    upstreamCost: number;
    upstreamCostMicros: number;
    callbackSecret: string;
    now: Date;
  },
): Promise<TaskAttempt | null> {
  return withTransaction(db, async (tx) => {
    if (args.task.status !== "submitting") {
      const moved = await transitionTask(tx, {
        taskId: args.task.id,
        from: [args.task.status],
        to: "submitting",
        source: "worker",
        now: args.now,
      });
      if (!moved) return null;
    }
    const [counted] = await tx
      .update(tasks)
      .set({
        attempts: sql`${tasks.attempts} + 1`,
        provider: args.provider,
        providerTaskId: null,
        updatedAt: args.now,
      })
      .where(
        and(
          eq(tasks.id, args.task.id),
          eq(tasks.status, "submitting"),
          eq(tasks.attempts, args.task.attempts),
        ),
      )
      .returning({ attempts: tasks.attempts });
    if (!counted) return null;
    const number = counted.attempts;
    if (number > 1) {
      await tx
        .update(taskAttempts)
        .set({ state: "superseded", endedAt: args.now })
        .where(
          and(
            eq(taskAttempts.taskId, args.task.id),
            inArray(taskAttempts.state, ["sending", "accepted", "unknown"]),
          ),
        );
    }
    const [attempt] = await tx
      .insert(taskAttempts)
      .values({
        id: newId("attempt", args.now.getTime()),
        taskId: args.task.id,
        number,
        provider: args.provider,
        upstreamModel: args.upstreamModel,
        callbackToken: callbackToken(args.callbackSecret, args.task.id, number),
        upstreamCost: args.upstreamCost,
        upstreamCostMicros: args.upstreamCostMicros,
        startedAt: args.now,
      })
      .returning();
    return attempt!;
  });
}

/**
 * The upstream accepted the attempt: record its id and move the task to running, in one
 * transaction. Returns false when the task had already moved on (a callback settled it first, or
 * it was canceled); the attempt keeps its upstream id for audit either way.
 */
export async function acceptAttempt(
  db: Executor,
  args: { attempt: TaskAttempt; providerTaskId: string; now: Date },
): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    // The task first, then its attempt: the order every ending (completeTask) locks them in, so
    // an accept and a callback settling the same attempt cannot deadlock.
    const moved = await transitionTask(tx, {
      taskId: args.attempt.taskId,
      from: ["submitting"],
      to: "running",
      source: "worker",
      attempt: args.attempt.number,
      changes: { providerTaskId: args.providerTaskId, submittedAt: args.now },
      detail: { attempt: args.attempt.number, providerTaskId: args.providerTaskId },
      now: args.now,
    });
    await tx
      .update(taskAttempts)
      .set({
        providerTaskId: sql`coalesce(${taskAttempts.providerTaskId}, ${args.providerTaskId})`,
        acceptedAt: args.now,
        state: sql`case when ${taskAttempts.state} in ('sending', 'unknown') then 'accepted'::attempt_state else ${taskAttempts.state} end`,
      })
      .where(eq(taskAttempts.id, args.attempt.id));
    return moved !== null;
  });
}

/**
 * Ends an attempt without a result: `rejected` (the upstream refused it, so it costs nothing),
 * `unknown` (it may have been accepted), `lost` (the upstream forgot it). Only an attempt still
 * in `from` changes.
 */
export async function endAttempt(
  db: Executor,
  args: {
    attemptId: string;
    state: Extract<AttemptState, "rejected" | "unknown" | "lost">;
    kind?: FailureKind;
    errorCode?: string;
    errorMessage?: string;
    /** The upstream's status, for a refused submission. */
    upstreamStatus?: number;
    from?: AttemptState[];
    now: Date;
  },
): Promise<boolean> {
  const rows = await db
    .update(taskAttempts)
    .set({
      state: args.state,
      failureKind: args.kind ?? null,
      errorCode: args.errorCode ?? null,
      errorMessage: args.errorMessage ?? null,
      upstreamStatus: args.upstreamStatus ?? null,
      ...(args.state === "rejected" ? { upstreamCost: 0, upstreamCostMicros: 0 } : {}),
      ...(args.state === "unknown" ? {} : { endedAt: args.now }),
    })
    .where(
      and(
        eq(taskAttempts.id, args.attemptId),
        inArray(taskAttempts.state, args.from ?? ["sending"]),
      ),
    )
    .returning({ id: taskAttempts.id });
  return rows.length > 0;
}

/** Counts a poll that found the upstream task missing; returns the consecutive count. */
export async function noteNotFound(db: Executor, attemptId: string): Promise<number> {
  const [row] = await db
    .update(taskAttempts)
    .set({ notFoundCount: sql`${taskAttempts.notFoundCount} + 1` })
    .where(eq(taskAttempts.id, attemptId))
    .returning({ count: taskAttempts.notFoundCount });
  return row?.count ?? 0;
}

/** A poll found the upstream task again: the misses were not consecutive. */
export async function clearNotFound(db: Executor, attempt: TaskAttempt): Promise<void> {
  if (attempt.notFoundCount === 0) return;
  await db.update(taskAttempts).set({ notFoundCount: 0 }).where(eq(taskAttempts.id, attempt.id));
}

/** Every attempt of a task, first first: the task's history across providers. */
export async function listAttempts(db: Executor, taskId: string): Promise<TaskAttempt[]> {
  return db
    .select()
    .from(taskAttempts)
    .where(eq(taskAttempts.taskId, taskId))
    .orderBy(taskAttempts.number);
}

/**
 * The upstream reported that an attempt failed in a way another provider may not (its own
 * outage, a generation that failed there): the attempt records the result and ends `failed`
 * with `kind`, costing nothing (the upstream refunds failures), while the task stays active with
 * its hold, for the worker to open the next attempt elsewhere. Returns `applied` when this
 * recorded it, `duplicate` when the attempt already had a result, `late` when it is no longer
 * the task's current attempt or the task has ended (recorded on the attempt all the same).
 */
export async function failAttempt(
  db: Executor,
  args: {
    taskId: string;
    attempt: { number: number; providerTaskId?: string };
    kind: FailureKind;
    errorCode: string;
    errorMessage: string;
    now: Date;
  },
): Promise<"applied" | "duplicate" | "late"> {
  return withTransaction(db, async (tx) => {
    const [task] = await tx
      .select({ status: tasks.status, attempts: tasks.attempts })
      .from(tasks)
      .where(eq(tasks.id, args.taskId))
      .for("update");
    const current =
      task !== undefined &&
      task.attempts === args.attempt.number &&
      ["submitting", "running"].includes(task.status);
    const updated = await tx
      .update(taskAttempts)
      .set({
        result: { status: "failed", errorCode: args.errorCode, errorMessage: args.errorMessage },
        resultAt: args.now,
        providerTaskId: sql`coalesce(${taskAttempts.providerTaskId}, ${args.attempt.providerTaskId ?? null})`,
        upstreamCost: 0,
        upstreamCostMicros: 0,
        ...(current
          ? {
              state: "failed" as const,
              failureKind: args.kind,
              errorCode: args.errorCode,
              errorMessage: args.errorMessage,
              endedAt: args.now,
            }
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
    if (!current) return "late";
    // Wake the task's job now: its next attempt is due.
    await tx.update(tasks).set({ nextWakeAt: args.now }).where(eq(tasks.id, args.taskId));
    return "applied";
  });
}

/** Statuses by which an upstream says it is busy (rate limit, active-task limit), not failing. */
const BUSY_STATUSES = [409, 429];

/** A submission the upstream refused only because it was busy: it does not use up the budget. */
export const wasBusy = (attempt: Pick<TaskAttempt, "state" | "upstreamStatus">) =>
  attempt.state === "rejected" &&
  attempt.upstreamStatus !== null &&
  BUSY_STATUSES.includes(attempt.upstreamStatus);
