import {
  activeTaskStatuses,
  type Executor,
  pgClientOf,
  type Task,
  tasks,
  type WaitingFor,
} from "@ripen/db";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import { TaskNotFound } from "./errors";
import { activeStatusList, toTask } from "./task-machine";

/*
 * Reading tasks and scheduling their next wake-up. The state machine is in `task-machine.ts`,
 * creates in `task-create.ts`, and every ending in `task-ending/`.
 */

/** What places a task's steps in the queue (`stepPriority` of `@ripen/queue`). */
export type TaskOrder = Pick<Task, "id" | "deadlineAt" | "createdAt" | "batchId" | "status">;

/**
 * The share of a batch item's time (create to deadline) by which it should have started: its
 * batch is admitted only if its last item is projected to start by then, and the queue takes the
 * item as due then. Less than a single create's share (admission's `START_BY_SHARE`), so the
 * single creates made after a batch have room: admitted at 0.8, a chaos run's batches left none,
 * and every single create after them was refused. The other half is for what may befall an item
 * once started: a worker killed while its submit was in flight (the callback of a lost submit is
 * awaited at least 20 s), a provider's Retry-After, a Redis restart.
 */
export const BATCH_START_BY_SHARE = 0.5;

export async function findTask(db: Executor, taskId: string): Promise<Task | null> {
  const result = await pgClientOf(db).query({
    // Not named: planning it is cheap, and a plan kept from while tasks was small, once
    // analyzed, scanned it whole until the next ANALYZE (named-statements.test.ts).
    text: "select * from tasks where id = $1",
    values: [taskId],
  });
  const row = result.rows[0];
  return row ? toTask(row) : null;
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

/**
 * Records when an active task's job is next expected to run (the sweep's yardstick). Both
 * statements compare the status as text, so only the primary key serves them (see
 * groupTransitionSql), and are not named: planning them is cheap, and their plans kept from
 * while tasks was small, once analyzed, scanned it whole (named-statements.test.ts).
 */
export async function setNextWake(
  db: Executor,
  taskId: string,
  at: Date,
  waitingFor?: Omit<WaitingFor, "until">,
): Promise<void> {
  if (!waitingFor) {
    await pgClientOf(db).query({
      text: "update tasks set next_wake_at = $2 where id = $1 and status::text = any($3::text[])",
      values: [taskId, at, activeTaskStatuses],
    });
    return;
  }
  await pgClientOf(db).query({
    text: SET_WAITING_SQL,
    values: [
      taskId,
      at,
      JSON.stringify({ ...waitingFor, until: at.toISOString() }),
      activeTaskStatuses,
    ],
  });
}

/**
 * The wake-up and why the task waits for it; the task's history gets an event (its status to
 * itself, the wait in `detail`) when the reason or the provider changes, not on every re-park.
 */
const SET_WAITING_SQL = `
  with previous as (
    select id, status, waiting_for from tasks
    where id = $1 and status::text = any($4::text[])
    for update
  ), updated as (
    update tasks t set next_wake_at = $2, waiting_for = $3::jsonb
    from previous p where t.id = p.id
  )
  insert into task_events (task_id, from_status, to_status, source, detail)
  select p.id, p.status, p.status, 'worker', jsonb_build_object('waiting_for', $3::jsonb)
  from previous p
  where p.waiting_for is null
    or p.waiting_for->>'reason' is distinct from $3::jsonb->>'reason'
    or p.waiting_for->>'provider' is distinct from $3::jsonb->>'provider'`;

/**
 * Claims up to `limit` active tasks whose wake-up is overdue (before `before`), oldest first, and
 * moves their wake-up to `recheckAt`: each claimed task drops out of the overdue set, so the next
 * page and the next sweep reach other tasks, and concurrent sweeps skip each other's claims.
 */
export async function claimOverdueWakes(
  db: Executor,
  args: {
    before: Date;
    recheckAt: Date;
    limit: number;
    /**
     * Claims in deadline order, after this task (the last of the previous page), instead of in
     * wake-up order: a sweep across every wake-up (Redis emptied) claims each task once, since
     * its claim moves the wake-up to `recheckAt`, still before `before`.
     */
    after?: TaskOrder | null;
  },
): Promise<TaskOrder[]> {
  const byDeadline = args.after !== undefined;
  // At the millisecond a Date holds, so the page's last task compares equal to itself.
  const deadline = sql`date_trunc('milliseconds', deadline_at)`;
  // The page comes back in the order its cursor is compared in, by Postgres (collation included).
  const result = await db.execute(sql`
    with claimed as (
      update ${tasks} set next_wake_at = ${args.recheckAt}
      where id in (
        select id from ${tasks}
        where status in (${activeStatusList}) and next_wake_at < ${args.before}
          ${args.after ? sql`and (${deadline}, id) > (${args.after.deadlineAt}, ${args.after.id})` : sql``}
        order by ${byDeadline ? sql`${deadline}, id` : sql`next_wake_at`}
        limit ${args.limit}
        for update skip locked
      )
      returning id, deadline_at, created_at, batch_id, status
    )
    select * from claimed ${byDeadline ? sql`order by ${deadline}, id` : sql``}`);
  return result.rows.map((row) => {
    const { id, deadlineAt, createdAt, batchId, status } = toTask(row);
    return { id, deadlineAt, createdAt, batchId, status };
  });
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
    .orderBy(tasks.deadlineAt)
    .limit(args.limit);
  return rows.map((r) => r.id);
}

/** Tasks not yet handed to a provider, by whether a new single create waits behind them. */
export interface TasksWaitingToStart {
  /** Single creates, and batch items due within the horizon. */
  interactive: number;
  /** Batch items due later. */
  batch: number;
  /**
   * Those batch items by deadline (to the second), in the queue's order (earliest due first),
   * the first `LATER_DEADLINES_LISTED` deadlines: what a single create made now would push
   * back. With the earliest create among each deadline's items: the one with the most time to
   * its deadline, so the one whose start-by, a share of that time, comes first.
   */
  batchByDeadline: { deadlineAt: Date; createdAt: Date; tasks: number }[];
}

/** How many of the later batch items' deadlines `countTasksWaitingToStart` lists. */
const LATER_DEADLINES_LISTED = 100;

/**
 * Counts the tasks that wait to be started: queued, parked at a provider or not (a circuit that
 * closes sends its parked tasks back to the queue at their old places). Postgres's answer, so it
 * includes tasks whose jobs a Redis restarted empty forgot until the sweep enqueues them again.
 * For admission control's view of the queue, whose order is earliest due first: a batch item
 * counts as interactive when it is due (`BATCH_START_BY_SHARE` of its time) within `horizonMs`.
 * One statement.
 */
export async function countTasksWaitingToStart(
  db: Executor,
  horizonMs: number,
): Promise<TasksWaitingToStart> {
  const { rows } = await pgClientOf(db).query<{
    interactive: number;
    batch: number;
    by_deadline: { at: string; created: string; tasks: number }[];
  }>({
    name: "ripen_count_tasks_waiting_to_start",
    text: `with waiting as (
        select batch_id is not null and due_at >= now() + $1 * interval '1 millisecond' as later,
          deadline_at, created_at, due_at
        from tasks, lateral (select created_at + $3 * (deadline_at - created_at) as due_at) as due
        where status = 'queued')
      select
        (select count(*) from waiting where not later)::int as interactive,
        (select count(*) from waiting where later)::int as batch,
        coalesce((select json_agg(json_build_object('at', at, 'created', created, 'tasks', tasks)
            order by due)
          from (select date_trunc('second', deadline_at) as at, min(created_at) as created,
              count(*)::int as tasks, min(due_at) as due
            from waiting where later group by 1 order by due limit $2) as deadlines), '[]')
          as by_deadline`,
    values: [horizonMs, LATER_DEADLINES_LISTED, BATCH_START_BY_SHARE],
  });
  const row = rows[0];
  return {
    interactive: row?.interactive ?? 0,
    batch: row?.batch ?? 0,
    batchByDeadline: (row?.by_deadline ?? []).map((d) => ({
      deadlineAt: new Date(d.at),
      createdAt: new Date(d.created),
      tasks: d.tasks,
    })),
  };
}
