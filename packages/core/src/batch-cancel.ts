import { activeTaskStatuses, batches, type Executor, tasks, withTransaction } from "@ripen/db";
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import { type BatchSummary, endBatch, getBatchForAccount, getBatchSummary } from "./batch-end";
import { batchCanceledOutcome } from "./task-ending/outcomes";
import type { TaskEnder } from "./task-ending/task-ender";

/** Items canceled per transaction by `cancelBatch`. */
const CANCEL_CHUNK = 500;

/**
 * Runs a transaction again when Postgres broke a deadlock by aborting it (SQLSTATE 40P01): a chunk
 * locks its items, then their attempts, while the worker's accept of an attempt locks the attempt,
 * then its task. The aborted transaction wrote nothing, so running it again is safe.
 */
async function retryDeadlocks<T>(run: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string; cause?: { code?: string } }).code;
      const causeCode = (error as { cause?: { code?: string } }).cause?.code;
      if (attempt >= tries || (code !== "40P01" && causeCode !== "40P01")) throw error;
    }
  }
}

/**
 * Cancels a batch: every item not yet ended is ended as canceled through the task ender, like
 * any other ending (transition and event, hold released once, open attempts abandoned, the
 * item's callback, then its hint, slot and log line after commit), `CANCEL_CHUNK` items per
 * transaction, so a 10,000-item cancel never holds its locks for long. The chunk that ends the
 * last active item ends the batch as `canceled` and writes its callback; if other endings got
 * there first and the batch is still running, it is canceled at the end. Items that end
 * meanwhile another way are left as they end.
 */
export async function cancelBatch(
  db: Executor,
  ender: TaskEnder,
  args: { accountId: string; batchId: string; now: Date; source?: string },
): Promise<{ summary: BatchSummary; canceled: string[] }> {
  const batch = await getBatchForAccount(db, args.accountId, args.batchId);
  const canceled: string[] = [];
  let after = "";
  for (;;) {
    const chunk = await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(
        and(
          eq(tasks.batchId, batch.id),
          gt(tasks.id, after),
          inArray(tasks.status, [...activeTaskStatuses]),
        ),
      )
      .orderBy(asc(tasks.id))
      .limit(CANCEL_CHUNK);
    if (chunk.length === 0) break;
    const taskIds = chunk.map((row) => row.id);
    const settled = await retryDeadlocks(() =>
      ender.endAll(db, {
        endings: taskIds.map((taskId) => ({ taskId, outcome: batchCanceledOutcome() })),
        source: args.source ?? "api",
        detail: { batch: batch.id },
        batchEndsAs: "canceled",
        now: args.now,
      }),
    );
    for (const task of settled.ended) canceled.push(task.id);
    after = taskIds.at(-1)!;
  }
  // Nothing was left for a chunk to end (or the last items ended another way at once).
  const ended = await withTransaction(db, async (tx) => {
    const [locked] = await tx.select().from(batches).where(eq(batches.id, batch.id)).for("update");
    return locked?.state === "running" ? endBatch(tx, batch.id, args.now, "canceled") : null;
  });
  if (ended) {
    await ender.afterCommit({
      source: args.source ?? "api",
      ended: [],
      deliveryIds: ended.deliveryId ? [ended.deliveryId] : [],
      endedBatches: [ended],
    });
  }
  const summary = await getBatchSummary(db, args.accountId, batch.id, args.now);
  return { summary, canceled };
}
