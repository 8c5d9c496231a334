import {
  type AttemptState,
  type Executor,
  type FailureKind,
  openAttemptStates,
  type ProviderId,
  pgClientOf,
  type Task,
  type TaskAttempt,
  type TaskStatus,
  taskAttempts,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, desc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { IllegalTransition } from "./errors";
import { newId } from "./ids";
import { callbackToken } from "./provider";
import { groupTransitionSql, sourcesOf, toTask } from "./task-machine";

const attemptColumns = Object.entries(getTableColumns(taskAttempts));

/** A raw `task_attempts` row (snake_case, driver values; each name after `prefix`) as the model. */
function toAttempt(row: Record<string, unknown>, prefix = ""): TaskAttempt {
  const attempt: Record<string, unknown> = {};
  for (const [key, column] of attemptColumns) {
    const value = row[prefix + column.name];
    attempt[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return attempt as TaskAttempt;
}

/** A task with its latest attempt (null before the first), or with the attempt a callback named. */
export interface TaskAndAttempt {
  task: Task;
  attempt: TaskAttempt | null;
}

/**
 * Tasks and their latest attempts, in one query: what a run of a task's job reads first. A task
 * that does not exist is absent from the map.
 */
export async function findTasksAndLatestAttempts(
  db: Executor,
  taskIds: readonly string[],
): Promise<Map<string, TaskAndAttempt>> {
  const result = await pgClientOf(db).query({
    name: "ripen_find_tasks_and_latest_attempts",
    text: TASKS_AND_LATEST_ATTEMPTS_SQL,
    values: [taskIds],
  });
  return new Map(result.rows.map((row) => [row.id as string, toTaskAndAttempt(row)]));
}

export async function findTaskAndLatestAttempt(
  db: Executor,
  taskId: string,
): Promise<TaskAndAttempt | null> {
  return (await findTasksAndLatestAttempts(db, [taskId])).get(taskId) ?? null;
}

function toTaskAndAttempt(row: Record<string, unknown>): TaskAndAttempt {
  return {
    task: toTask(row),
    attempt: row[`${LATEST}id`] === null ? null : toAttempt(row, LATEST),
  };
}

/** The prefix of the attempt's columns, which share names with the task's. */
const LATEST = "latest.";
/** A task's columns and its attempt `a`'s, prefixed: what `toTask` and `toAttempt` read back. */
const TASK_AND_ATTEMPT_COLUMNS = `t.*, ${attemptColumns
  .map(([, c]) => `a.${c.name} as "${LATEST}${c.name}"`)
  .join(", ")}`;
const TASKS_AND_LATEST_ATTEMPTS_SQL = `
  select ${TASK_AND_ATTEMPT_COLUMNS}
  from tasks t left join lateral (
    select * from task_attempts where task_id = t.id order by number desc limit 1
  ) a on true
  where t.id = any($1::text[])`;

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

/** What `openAttempt` needs: the task as this run read it, and the route it chose. */
export interface OpenAttemptArgs {
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
}

export interface AcceptAttemptArgs {
  attempt: Pick<TaskAttempt, "id" | "taskId" | "number">;
  providerTaskId: string;
  now: Date;
  /** When the task's job next expects to run, recorded with the move to running. */
  nextWakeAt?: Date;
}

/**
 * Opens the task's next attempt before anything is sent upstream: moves the task to submitting,
 * numbers the attempt from the task's counter, supersedes an earlier attempt still open (its
 * outcome unknown), and writes the attempt row with its callback token and the upstream's
 * price. Returns null when the task is no longer active or another run opened an attempt first.
 */
export async function openAttempt(
  db: Executor,
  args: OpenAttemptArgs,
): Promise<TaskAttempt | null> {
  const [attempt] = await openAttempts(db, [args]);
  return attempt ?? null;
}

/** Where a run may open an attempt from: the machine's sources of submitting, or submitting. */
const openFrom: readonly TaskStatus[] = [...sourcesOf("submitting"), "submitting"];

/**
 * `openAttempt` for several tasks in one statement (the worker's concurrent jobs, written by
 * group commit): each answer in the order asked, null where that task's attempt did not open.
 * Task rows are locked in id order, so groups written at once cannot deadlock.
 */
export async function openAttempts(
  db: Executor,
  opens: readonly OpenAttemptArgs[],
): Promise<Array<TaskAttempt | null>> {
  if (opens.length === 0) return [];
  for (const { task } of opens) {
    if (!openFrom.includes(task.status)) throw new IllegalTransition([task.status], "submitting");
  }
  const column = <T>(value: (open: OpenAttemptArgs) => T) => opens.map(value);
  const result = await pgClientOf(db).query({
    // Not named: planned at each run, against the tables' sizes then (see acceptAttempts).
    text: OPEN_ATTEMPTS_SQL,
    values: [
      column((o) => o.task.id),
      column((o) => o.task.status),
      column((o) => o.task.attempts),
      column((o) => o.provider),
      column((o) => o.upstreamModel),
      column((o) => o.upstreamCost),
      column((o) => o.upstreamCostMicros),
      column((o) => newId("attempt", o.now.getTime())),
      // The number is the count the run read plus one, or nothing opens.
      column((o) => callbackToken(o.callbackSecret, o.task.id, o.task.attempts + 1)),
      column((o) => o.now),
    ],
  });
  const opened = new Map(result.rows.map((row) => [row.task_id as string, toAttempt(row)]));
  return opens.map((open) => opened.get(open.task.id) ?? null);
}

/**
 * The task to submitting (unless it is already: a retry or failover counts another attempt
 * without a transition), its count up by one, conditional on the status and count the run read;
 * earlier open attempts superseded; the attempt written.
 */
const OPEN_ATTEMPTS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::task_status[], $3::integer[], $4::text[], $5::text[],
      $6::integer[], $7::integer[], $8::text[], $9::text[], $10::timestamptz[])
      as t(task_id, status_read, attempts_read, provider, upstream_model, upstream_cost,
        upstream_cost_micros, attempt_id, callback_token, now)
  ), ${groupTransitionSql({
    to: "submitting",
    from: openFrom,
    stay: true,
    source: "worker",
    where: "t.status = i.status_read and t.attempts = i.attempts_read",
    set: "attempts = t.attempts + 1, provider = i.provider, provider_task_id = null, waiting_for = null",
  })}, superseded as (
    update task_attempts a set state = 'superseded', ended_at = m.now
    from moved m
    where a.task_id = m.task_id and m.task_attempts > 1
      -- As text, as in groupTransitionSql: no partial index of open attempts serves a lookup by task.
      and a.state::text in (${openAttemptStates.map((state) => `'${state}'`).join(", ")})
  )
  insert into task_attempts (id, task_id, number, provider, upstream_model, callback_token,
    upstream_cost, upstream_cost_micros, started_at)
  select attempt_id, task_id, task_attempts, provider, upstream_model, callback_token,
    upstream_cost, upstream_cost_micros, now
  from moved
  returning *`;

/**
 * The upstream accepted the attempt: record its id and move the task to running (with its next
 * wake-up, when given), in one statement. Returns false when the task had already moved on (a
 * callback settled it first, or it was canceled); the attempt keeps its upstream id for audit
 * either way.
 */
export async function acceptAttempt(db: Executor, args: AcceptAttemptArgs): Promise<boolean> {
  const [accepted] = await acceptAttempts(db, [args]);
  return accepted ?? false;
}

/** `acceptAttempt` for several attempts in one statement: each answer in the order asked. */
export async function acceptAttempts(
  db: Executor,
  accepts: readonly AcceptAttemptArgs[],
): Promise<boolean[]> {
  if (accepts.length === 0) return [];
  const column = <T>(value: (accept: AcceptAttemptArgs) => T) => accepts.map(value);
  const result = await pgClientOf(db).query({
    // Not named: planned at each run, against the tables' sizes then. A generic plan kept from
    // while task_attempts was small scanned it whole (named-statements.test.ts).
    text: ACCEPT_ATTEMPTS_SQL,
    values: [
      column((a) => a.attempt.id),
      column((a) => a.attempt.taskId),
      column((a) => a.attempt.number),
      column((a) => a.providerTaskId),
      column((a) => a.now),
      column((a) => a.nextWakeAt ?? null),
    ],
  });
  const moved = new Set(result.rows.map((row) => row.attempt_id as string));
  return accepts.map((accept) => moved.has(accept.attempt.id));
}

/**
 * The tasks first, then their attempts: the order every ending locks them in, so an accept and a
 * callback settling the same attempt cannot deadlock. The attempts' update reads the count of
 * `moved`, which makes every task lock come before it.
 */
const ACCEPT_ATTEMPTS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::timestamptz[],
      $6::timestamptz[])
      as t(attempt_id, task_id, number, provider_task_id, now, next_wake_at)
  ), ${groupTransitionSql({
    to: "running",
    from: ["submitting"],
    source: "worker",
    // Only while this attempt is the task's current one: a superseded attempt decides nothing.
    where: "t.attempts = i.number",
    set: `provider_task_id = i.provider_task_id, submitted_at = i.now,
      next_wake_at = coalesce(i.next_wake_at, t.next_wake_at)`,
    detail: "jsonb_build_object('attempt', number, 'providerTaskId', provider_task_id)",
  })}, accepted as (
    update task_attempts a set
      provider_task_id = coalesce(a.provider_task_id, i.provider_task_id),
      accepted_at = i.now,
      state = case when a.state in ('sending', 'unknown') then 'accepted'::attempt_state
        else a.state end
    from input i
    where a.id = i.attempt_id and (select count(*) from moved) >= 0
  )
  select attempt_id from moved`;

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

/** Attempts named by callbacks (task id and attempt number), each with its task, in one read. */
export async function findTasksWithAttempts(
  db: Executor,
  wanted: readonly { taskId: string; number: number }[],
): Promise<Map<string, TaskAndAttempt>> {
  const result = await pgClientOf(db).query({
    // Not named: planned at each run, against the tables' sizes then. A generic plan kept from
    // while tasks was small scanned it whole (named-statements.test.ts).
    text: TASKS_WITH_ATTEMPTS_SQL,
    values: [wanted.map((w) => w.taskId), wanted.map((w) => w.number)],
  });
  return new Map(
    result.rows.map((row) => [attemptKey(row.id, row.wanted_number), toTaskAndAttempt(row)]),
  );
}

/** A task with one of its attempts (null when it has no such attempt), in one read. */
export async function findTaskWithAttempt(
  db: Executor,
  taskId: string,
  number: number,
): Promise<TaskAndAttempt | null> {
  const found = await findTasksWithAttempts(db, [{ taskId, number }]);
  return found.get(attemptKey(taskId, number)) ?? null;
}

export const attemptKey = (taskId: string, number: number) => `${taskId}#${number}`;

// Driven from the tasks' primary key and an index probe per attempt: the planner cannot size
// the unnest, and a guess too large hashes the whole tasks table for a handful of callbacks.
const TASKS_WITH_ATTEMPTS_SQL = `
  select ${TASK_AND_ATTEMPT_COLUMNS}, w.number as wanted_number
  from tasks t
  join unnest($1::text[], $2::int[]) as w(task_id, number) on w.task_id = t.id
  left join lateral (
    select * from task_attempts where task_id = t.id and number = w.number
  ) a on true
  where t.id = any($1::text[])`;
