import { type Batch, batches, type Executor, type Task, tasks } from "@ripen/db";
import { and, desc, eq, getTableColumns, type SQL, sql } from "drizzle-orm";

/*
 * Reading batches. A batch is created in `batch-create.ts`, canceled in `batch-cancel.ts`, and
 * ends (summary, callback) in `batch-end.ts`.
 */

/** A position in an account's batches, newest first. */
export interface BatchListPosition {
  createdAt: Date;
  id: string;
}

/** One page of an account's batches, newest first (index `batches_account_created_idx`). */
export async function listBatches(
  db: Executor,
  args: { accountId: string; limit: number; after?: BatchListPosition },
): Promise<{ batches: Batch[]; next: BatchListPosition | null }> {
  const conditions: SQL[] = [eq(batches.accountId, args.accountId)];
  if (args.after) {
    conditions.push(
      sql`(${batches.createdAt}, ${batches.id}) < (${args.after.createdAt.toISOString()}::timestamptz, ${args.after.id})`,
    );
  }
  const rows = await db
    .select()
    .from(batches)
    .where(and(...conditions))
    .orderBy(desc(batches.createdAt), desc(batches.id))
    .limit(args.limit + 1);
  const page = rows.slice(0, args.limit);
  const last = page.at(-1);
  return {
    batches: page,
    next: rows.length > args.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}

const taskColumns = getTableColumns(tasks);

/**
 * The batch's items in submission order (their ids are monotonic), by keyset pages of
 * `pageSize` on `tasks_batch_idx`: a 10,000-item batch is never read whole into memory.
 */
export async function* batchItems(
  db: Executor,
  batchId: string,
  pageSize = 1_000,
): AsyncGenerator<Task[]> {
  let after = "";
  for (;;) {
    const page = await db
      .select(taskColumns)
      .from(tasks)
      .where(and(eq(tasks.batchId, batchId), sql`${tasks.id} > ${after}`))
      .orderBy(tasks.id)
      .limit(pageSize);
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    after = page.at(-1)!.id;
  }
}
