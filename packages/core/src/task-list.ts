import { type DoorName, type Executor, type Task, type TaskStatus, tasks } from "@ripen/db";
import { and, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from "drizzle-orm";

/**
 * A position in an account's tasks, newest first: the last task a page showed. Its time is
 * Postgres's own (microseconds since the epoch), so no rounding can skip or repeat a task.
 */
export interface TaskListPosition {
  createdAtMicros: bigint;
  id: string;
}

export interface ListTasksArgs {
  accountId: string;
  /** Any of these statuses; all when unset. */
  statuses?: readonly TaskStatus[];
  /** Any of these models; all when unset. */
  models?: readonly string[];
  /** Only the items of this batch. */
  batchId?: string;
  /** Any of these doors (the API the task was created through); all when unset. */
  doors?: readonly DoorName[];
  /** Created at or after. */
  createdFrom?: Date;
  /** Created strictly before. */
  createdBefore?: Date;
  /** Only tasks after this position (older, or as old with a smaller id). */
  after?: TaskListPosition;
  /** Tasks per page. */
  limit: number;
}

export interface TaskListPage {
  tasks: Task[];
  /** Where the next page starts, or null when this page is the last. */
  next: TaskListPosition | null;
}

/**
 * One page of an account's tasks, newest first, by keyset: (created_at, id) below the position
 * (index `tasks_account_created_idx`). A task created while a client pages is newer than every
 * position it holds, so it never shifts a page: no task is shown twice or skipped.
 */
export async function listTasks(db: Executor, args: ListTasksArgs): Promise<TaskListPage> {
  const conditions: SQL[] = [eq(tasks.accountId, args.accountId)];
  if (args.statuses?.length) conditions.push(inArray(tasks.status, [...args.statuses]));
  if (args.models?.length) conditions.push(inArray(tasks.model, [...args.models]));
  if (args.batchId) conditions.push(eq(tasks.batchId, args.batchId));
  if (args.doors?.length) conditions.push(inArray(tasks.door, [...args.doors]));
  if (args.createdFrom) conditions.push(gte(tasks.createdAt, args.createdFrom));
  if (args.createdBefore) conditions.push(lt(tasks.createdAt, args.createdBefore));
  if (args.after) {
    const at = sql`(timestamptz 'epoch' + ${args.after.createdAtMicros.toString()}::bigint * interval '1 microsecond')`;
    // Postgres bounds the index scan by the row comparison's first column (created_at <= at);
    // the id breaks ties among tasks created in the same microsecond.
    conditions.push(sql`(${tasks.createdAt}, ${tasks.id}) < (${at}, ${args.after.id})`);
  }
  const rows = await db
    .select({
      ...getTableColumns(tasks),
      createdAtMicros: sql<string>`((extract(epoch from ${tasks.createdAt}) * 1000000)::bigint)::text`,
    })
    .from(tasks)
    .where(and(...conditions))
    .orderBy(desc(tasks.createdAt), desc(tasks.id))
    .limit(args.limit + 1);
  const page = rows.slice(0, args.limit);
  const last = page.at(-1);
  return {
    tasks: page.map(({ createdAtMicros: _, ...task }) => task),
    next:
      rows.length > args.limit && last
        ? { createdAtMicros: BigInt(last.createdAtMicros), id: last.id }
        : null,
  };
}
