import {
  type ActiveTaskStatus,
  activeTaskStatuses,
  type Executor,
  pgClientOf,
  statementName,
  type Task,
  type TaskStatus,
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
  const { source, now, ...move } = args;
  const [moved] = await transitionEach(db, { moves: [move], source, now });
  return moved ?? null;
}

/** One task's move in `transitionEach`: `TransitionArgs` without what the group shares. */
export type TransitionMove = Omit<TransitionArgs, "source" | "now">;

/** The columns a transition may change, with the SQL type their values are cast to. */
const changeColumns = (
  Object.keys({
    providerTaskId: 0,
    output: 0,
    errorCode: 0,
    errorMessage: 0,
    submittedAt: 0,
    completedAt: 0,
    nextWakeAt: 0,
  } satisfies Record<keyof TaskChanges, 0>) as Array<keyof TaskChanges>
).map((key) => ({
  key,
  name: tasks[key].name,
  type: tasks[key].getSQLType(),
}));

/**
 * Moves each task to its own status with its own changes (a group of endings settled together),
 * by `groupTransitionSql`: one statement per target status (a group of endings is most often all
 * of one), the rows locked in id order, each move only from a status the machine allows (and only
 * while its attempt is current, when it names one), one event per move. Tasks not in an allowed
 * status are skipped and nothing is written for them. Returns the tasks moved, in id order.
 */
export async function transitionEach(
  db: Executor,
  args: {
    moves: readonly TransitionMove[];
    source: string;
    now?: Date;
    /** Run as a named statement: only in a transaction that plans by indexes (`planByIndexes`). */
    named?: boolean;
  },
): Promise<Array<{ task: Task; from: TaskStatus }>> {
  const now = args.now ?? new Date();
  const byTarget = new Map<string, TransitionMove[]>();
  for (const move of args.moves) {
    const from = move.from ?? sourcesOf(move.to);
    const key = `${move.to}:${from.join(",")}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), { ...move, from }]);
  }
  const moved: Array<{ task: Task; from: TaskStatus }> = [];
  for (const moves of byTarget.values()) {
    moved.push(...(await transitionGroup(db, moves, args.source, now, args.named ?? false)));
  }
  return moved.sort((a, b) => (a.task.id < b.task.id ? -1 : a.task.id > b.task.id ? 1 : 0));
}

/** `transitionEach` for moves that share their target and their allowed sources. */
async function transitionGroup(
  db: Executor,
  moves: readonly TransitionMove[],
  source: string,
  now: Date,
  named: boolean,
): Promise<Array<{ task: Task; from: TaskStatus }>> {
  const { to, from } = moves[0]!;
  const changed = changeColumns.filter(({ key }) =>
    moves.some((move) => move.changes && key in move.changes),
  );
  const values: unknown[] = [
    moves.map((move) => move.taskId),
    moves.map((move) => move.attempt ?? null),
    moves.map((move) => (move.detail ? JSON.stringify(move.detail) : null)),
    // An ending clears the wake-up: the sweep has nothing left to do for it.
    moves.map((move) => !isActiveStatus(move.to) && !move.changes?.nextWakeAt),
    now,
  ];
  const inputs = ["$1::text[]", "$2::int[]", "$3::jsonb[]", "$4::boolean[]"];
  const names = ["task_id", "attempt", "detail", "clears_wake"];
  const assignments: string[] = [];
  changed.forEach(({ key, name, type }, i) => {
    const column = tasks[key];
    values.push(
      moves.map((move) => {
        const value = move.changes?.[key];
        return value === undefined || value === null ? null : column.mapToDriverValue(value);
      }),
      moves.map((move) => move.changes !== undefined && key in move.changes),
    );
    inputs.push(`$${values.length - 1}::${type}[]`, `$${values.length}::boolean[]`);
    names.push(`value_${i}`, `has_${i}`);
    if (name !== "next_wake_at") {
      assignments.push(`${name} = case when i.has_${i} then i.value_${i} else t.${name} end`);
    }
  });
  const wake = changed.findIndex(({ name }) => name === "next_wake_at");
  assignments.push(
    `next_wake_at = case ${wake >= 0 ? `when i.has_${wake} then i.value_${wake} ` : ""}when i.clears_wake then null else t.next_wake_at end`,
  );
  const text = `with input as (
      select *, $5::timestamptz as now from unnest(${inputs.join(", ")}) as i(${names.join(", ")})
    ), ${groupTransitionSql({
      to,
      from: from!,
      source,
      where: "(i.attempt is null or t.attempts = i.attempt)",
      set: assignments.join(", "),
      detail: "detail",
      // The task as updated (the statement's own reads would see it as before).
      returning: "t.*, i.task_id, i.detail, i.now",
    })}
    select * from moved`;
  // Named only where the transaction plans by indexes: elsewhere planned at each run, against
  // the tables' sizes then. A generic plan kept from while tasks was small scanned it whole
  // (named-statements.test.ts).
  const name = named ? statementName("transition", text) : undefined;
  const result = await pgClientOf(db).query({ name, text, values });
  return result.rows.map((row) => ({ task: toTask(row), from: row.from_status as TaskStatus }));
}

/**
 * The CTEs of one statement that moves each task named by a CTE `input` to `to` (one row per
 * task, with columns `task_id` and `now`, and whatever `where` and `set` read as `i.<column>`):
 * `locked` locks, in id order, the tasks in a status of `from` that meet `where`; `moved`
 * updates them (`set` may read the row before as `t.<column>`) and returns their `input` row
 * with `from_status` and `task_attempts` (the count after); `transition_event` writes one event
 * per task whose status changed, its `detail` an expression of `moved`'s columns. With `stay`, a task already in `to` is updated too, with
 * no event (it is not a transition). The text is fixed per call site; statuses come from the
 * machine, never from input.
 */
export function groupTransitionSql(args: {
  to: TaskStatus;
  from: readonly TaskStatus[];
  stay?: boolean;
  source: string;
  where?: string;
  set?: string;
  detail?: string;
  /** What `moved` returns of each task besides `from_status` and `task_attempts` (`i.*`). */
  returning?: string;
}): string {
  const allowed: TaskStatus[] = [...sourcesOf(args.to), ...(args.stay ? [args.to] : [])];
  if (args.from.length === 0 || args.from.some((status) => !allowed.includes(status))) {
    throw new IllegalTransition(args.from, args.to);
  }
  if (!/^[a-z_]+$/.test(args.source)) throw new Error(`not a transition source: ${args.source}`);
  const statuses = args.from.map((status) => `'${status}'`).join(", ");
  // The status is compared as text so that only the primary key serves this lookup by id. As
  // an enum it matches the predicate of the partial indexes of active tasks, and with statistics
  // from a moment when few tasks were active the planner read one of those whole: every active
  // task, at each statement (named-statements.test.ts).
  return `locked as materialized (
      select t.id, t.status from tasks t join input i on i.task_id = t.id
      where t.status::text in (${statuses}) and (${args.where ?? "true"})
      order by t.id
      for update of t
    ), moved as (
      update tasks t set status = '${args.to}', updated_at = i.now${args.set ? `, ${args.set}` : ""}
      from locked l join input i on i.task_id = l.id
      where t.id = l.id
      returning ${args.returning ?? "i.*"}, l.status as from_status, t.attempts as task_attempts
    ), transition_event as (
      insert into task_events (task_id, from_status, to_status, source, detail, created_at)
      select task_id, from_status, '${args.to}', '${args.source}', ${args.detail ?? "null::jsonb"}, now
      from moved where from_status <> '${args.to}'
    )`;
}
