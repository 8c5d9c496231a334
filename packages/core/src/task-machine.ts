import {
  type ActiveTaskStatus,
  activeTaskStatuses,
  type Executor,
  type Task,
  type TaskStatus,
  taskEvents,
  tasks,
} from "@ripen/db";
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import { IllegalTransition } from "./errors";

/**
 * The task state machine, declared once: each status and the statuses it may move to.
 * `running → submitting` opens a new attempt after the upstream lost the task; `submitting →
 * succeeded|failed` is a callback settling an attempt whose accept we never recorded.
 */
export const taskTransitions = {
  queued: ["submitting", "failed", "canceled", "expired"],
  submitting: ["running", "succeeded", "failed", "canceled", "expired"],
  running: ["submitting", "succeeded", "failed", "canceled", "expired"],
  succeeded: [],
  failed: [],
  canceled: [],
  expired: [],
} as const satisfies Record<TaskStatus, readonly TaskStatus[]>;

/** The statuses from which a task may move to `to`. */
export function sourcesOf(to: TaskStatus): TaskStatus[] {
  return (Object.keys(taskTransitions) as TaskStatus[]).filter((from) =>
    (taskTransitions[from] as readonly TaskStatus[]).includes(to),
  );
}

export const isActiveStatus = (status: TaskStatus): status is ActiveTaskStatus =>
  (activeTaskStatuses as readonly TaskStatus[]).includes(status);

const taskColumns = Object.entries(getTableColumns(tasks));

/** A raw `tasks` row (snake_case, driver values) as the drizzle model. */
export function toTask(row: Record<string, unknown>): Task {
  const task: Record<string, unknown> = {};
  for (const [key, column] of taskColumns) {
    const value = row[column.name];
    task[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return task as Task;
}

/** `activeTaskStatuses` as a SQL list, for `status in (…)`: the list is written once. */
export const activeStatusList: SQL = sql.join(
  activeTaskStatuses.map((status) => sql`${status}`),
  sql`, `,
);

export type TaskChanges = Partial<
  Pick<
    Task,
    | "providerTaskId"
    | "output"
    | "errorCode"
    | "errorMessage"
    | "submittedAt"
    | "completedAt"
    | "nextWakeAt"
  >
>;

export interface TransitionArgs {
  taskId: string;
  /** Where the task may be moving from; by default every status the machine allows. */
  from?: readonly TaskStatus[];
  to: TaskStatus;
  source: string;
  changes?: TaskChanges;
  detail?: Record<string, unknown>;
  /** Only while this attempt is the task's current one: a superseded attempt decides nothing. */
  attempt?: number;
  now?: Date;
}

/**
 * The one way a task changes state: one statement that locks the row if it is in an allowed
 * status, updates it and writes its event. Returns null when the task was not in one of those
 * states (someone else got there first), in which case nothing was written. A transition the
 * state machine does not declare throws IllegalTransition.
 */
export async function transitionTask(
  db: Executor,
  args: TransitionArgs,
): Promise<{ task: Task; from: TaskStatus } | null> {
  const { taskId, ...rest } = args;
  const [moved] = await transitionTasks(db, { ...rest, taskIds: [taskId] });
  return moved ?? null;
}

/**
 * `transitionTask` for a group of tasks moving to one status, in one statement (a batch's cancel):
 * rows are locked in id order, and those not in an allowed status are skipped. Returns the tasks
 * moved, in id order.
 */
export async function transitionTasks(
  db: Executor,
  args: Omit<TransitionArgs, "taskId"> & { taskIds: readonly string[] },
): Promise<Array<{ task: Task; from: TaskStatus }>> {
  if (args.taskIds.length === 0) return [];
  const allowed = sourcesOf(args.to);
  const from = args.from ?? allowed;
  if (from.length === 0 || from.some((status) => !allowed.includes(status))) {
    throw new IllegalTransition(from, args.to);
  }
  const now = args.now ?? new Date();
  const changes = Object.entries(args.changes ?? {}) as Array<[keyof TaskChanges, unknown]>;
  const assignments: SQL[] = changes.map(([key, value]) => {
    const column = tasks[key];
    return sql`${sql.identifier(column.name)} = ${value === null ? null : sql.param(value, column)}`;
  });
  // An ending clears the wake-up: the sweep has nothing left to do for it.
  if (!isActiveStatus(args.to) && !args.changes?.nextWakeAt)
    assignments.push(sql`next_wake_at = null`);
  const onlyAttempt = args.attempt === undefined ? sql`` : sql`and attempts = ${args.attempt}`;
  const result = await db.execute(sql`
    with current as (
      select id, status from ${tasks}
      where id in (${sql.join(
        args.taskIds.map((id) => sql`${id}`),
        sql`, `,
      )}) and status in (${sql.join(
        from.map((s) => sql`${s}`),
        sql`, `,
      )}) ${onlyAttempt}
      order by id
      for update
    ), moved as (
      update ${tasks} t set status = ${args.to}, updated_at = ${now}
        ${assignments.length ? sql`, ${sql.join(assignments, sql`, `)}` : sql``}
      from current where t.id = current.id
      returning t.*, current.status as from_status
    ), event as (
      insert into ${taskEvents} (task_id, from_status, to_status, source, detail, created_at)
      select id, from_status, ${args.to}::task_status, ${args.source}::text,
        ${args.detail ? JSON.stringify(args.detail) : null}::jsonb, ${now}::timestamptz
      from moved
    )
    select * from moved order by id`);
  return result.rows.map((row) => ({ task: toTask(row), from: row.from_status as TaskStatus }));
}
