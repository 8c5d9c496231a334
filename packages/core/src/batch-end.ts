import {
  activeTaskStatuses,
  type Batch,
  batches,
  deliveries,
  type Executor,
  type TaskStatus,
  taskStatuses,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, eq, sql } from "drizzle-orm";
import { DomainError } from "./errors";
import { newId } from "./ids";
import { activeStatusList } from "./task-machine";

/*
 * A batch's summary and its ending: the batch count every task ending keeps
 * (`task-ending/end-task.ts`), and the sweep's backstop.
 */

/** A batch id that does not exist (or belongs to another account). */
export class BatchNotFound extends DomainError {
  readonly code = "batch_not_found";
  constructor(readonly batchId: string) {
    super(`Batch '${batchId}' does not exist.`);
  }
}

export interface BatchSummary {
  id: string;
  /** `running` until every item has ended, then `ended`; `canceled` once canceled. */
  state: Batch["state"];
  total: number;
  /** Items per internal status (every status present, zeros included). */
  counts: Record<TaskStatus, number>;
  /** Items ended (any ending) / total; 1 when every item has ended. */
  progress: number;
  /** Items not yet ended (queued, submitting, running). */
  active: number;
  succeeded: number;
  /** Items ended otherwise: failed, canceled or expired. */
  failed: number;
  credits: {
    /** Holds still open (items not yet ended). */
    held: number;
    /** Captured for items that succeeded. */
    captured: number;
    /** Released for items that failed, expired or were canceled. */
    released: number;
    /** Every hold written (the batch's price). */
    total: number;
  };
  callbackUrl: string | null;
  scheduleRunId: string | null;
  createdAt: Date;
  endedAt: Date | null;
  /** When its last item was projected, at creation, to have started (admission control). */
  estimatedEndAt: Date | null;
  /** Milliseconds from creation to the end, or to `now` while running. */
  elapsedMs: number;
}

/** The batch as its owner sees it: another account's batch is indistinguishable from none. */
export async function getBatchForAccount(
  db: Executor,
  accountId: string,
  batchId: string,
): Promise<Batch> {
  const [batch] = await db
    .select()
    .from(batches)
    .where(and(eq(batches.id, batchId), eq(batches.accountId, accountId)));
  if (!batch) throw new BatchNotFound(batchId);
  return batch;
}

/**
 * The batch's counts per status (index `tasks_batch_idx`) and its credits, read from its items'
 * ledger rows (each item's `hold:` and `resolve:` rows, by their unique keys), progress, timing.
 */
export async function getBatchSummary(
  db: Executor,
  accountId: string,
  batchId: string,
  now: Date = new Date(),
): Promise<BatchSummary> {
  const batch = await getBatchForAccount(db, accountId, batchId);
  return summarizeBatch(db, batch, now);
}

/** The summary of a batch row already read. */
export async function summarizeBatch(db: Executor, batch: Batch, now: Date): Promise<BatchSummary> {
  const result = await db.execute(sql`
    select t.status, count(*)::int as n,
      coalesce(sum(h.amount), 0)::bigint as held,
      coalesce(sum(r.amount) filter (where r.kind = 'capture'), 0)::bigint as captured,
      coalesce(sum(r.amount) filter (where r.kind = 'release'), 0)::bigint as released
    from ${tasks} t
    left join ledger_entries h on h.idempotency_key = 'hold:' || t.id
    left join ledger_entries r on r.idempotency_key = 'resolve:' || t.id
    where t.batch_id = ${batch.id}
    group by t.status`);
  const counts = Object.fromEntries(taskStatuses.map((s) => [s, 0])) as Record<TaskStatus, number>;
  let held = 0;
  let captured = 0;
  let released = 0;
  for (const row of result.rows) {
    counts[row.status as TaskStatus] = Number(row.n);
    held += Number(row.held);
    captured += Number(row.captured);
    released += Number(row.released);
  }
  const active = activeTaskStatuses.reduce((n, s) => n + counts[s], 0);
  const total = batch.total;
  const end = batch.endedAt ?? now;
  return {
    id: batch.id,
    state: batch.state,
    total,
    counts,
    progress: total === 0 ? 1 : (total - active) / total,
    active,
    succeeded: counts.succeeded,
    failed: counts.failed + counts.canceled + counts.expired,
    credits: { held: held - captured - released, captured, released, total: held },
    callbackUrl: batch.callbackUrl,
    scheduleRunId: batch.scheduleRunId,
    createdAt: batch.createdAt,
    endedAt: batch.endedAt,
    estimatedEndAt: batch.estimatedEndAt,
    elapsedMs: Math.max(0, end.getTime() - batch.createdAt.getTime()),
  };
}

const unixSeconds = (date: Date | null) => (date ? Math.floor(date.getTime() / 1000) : null);

/** A batch summary on the wire (snake_case, times in Unix seconds as tasks show them). */
export function batchView(summary: BatchSummary) {
  return {
    id: summary.id,
    object: "batch" as const,
    state: summary.state,
    total: summary.total,
    counts: summary.counts,
    active: summary.active,
    succeeded: summary.succeeded,
    failed: summary.failed,
    progress: summary.progress,
    credits: summary.credits,
    callback_url: summary.callbackUrl,
    schedule_run_id: summary.scheduleRunId,
    created_at: unixSeconds(summary.createdAt),
    ended_at: unixSeconds(summary.endedAt),
    estimated_end_at: unixSeconds(summary.estimatedEndAt),
    elapsed_ms: summary.elapsedMs,
  };
}

export type BatchView = ReturnType<typeof batchView>;

/** The batch callback's event (the `X-Event` header). */
export const BATCH_COMPLETED_EVENT = "batch.completed";

/**
 * The batch's `batch.completed` callback in the outbox (`deliveries.batch_id`, `task_id` null),
 * its body the batch's summary serialized once; null when the batch has no callback URL. Written
 * in the transaction that ends the batch; the caller adds its job after commit.
 */
export async function writeBatchDelivery(
  tx: Executor,
  batch: Batch,
  now: Date,
): Promise<string | null> {
  if (!batch.callbackUrl) return null;
  const body = JSON.stringify(batchView(await summarizeBatch(tx, batch, now)));
  const id = newId("delivery", now.getTime());
  await tx.insert(deliveries).values({
    id,
    accountId: batch.accountId,
    taskId: null,
    batchId: batch.id,
    event: BATCH_COMPLETED_EVENT,
    url: batch.callbackUrl,
    body,
    nextTryAt: now,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/** A batch that ended: its last active item ended, or it was canceled. */
export interface EndedBatch {
  batchId: string;
  state: Exclude<Batch["state"], "running">;
  /** Its `batch.completed` callback, when it has a callback URL; enqueued after commit. */
  deliveryId: string | null;
}

/**
 * Ends the batch (`running` → `endAs`, `ended` by default) if no item of it is active any more,
 * and writes its callback: called in the transaction that ended some of its items, after their
 * holds were resolved. That resolution locked the account's row, and every item of a batch is
 * its account's, so the endings of a batch's last items are already serialized there: the
 * second one's probe (a new snapshot, READ COMMITTED) sees the first one's ending, and exactly
 * one of them ends the batch (the update is conditional on `running`). The probe reads
 * `tasks_batch_active_idx`, which holds only the batch's items still active: one index entry,
 * however many items have ended.
 */
export async function endBatchIfDone(
  tx: Executor,
  batchId: string,
  now: Date,
  endAs: EndedBatch["state"] = "ended",
): Promise<EndedBatch | null> {
  const active = await tx.execute(sql`
    select 1 from ${tasks}
    where batch_id = ${batchId} and status in (${activeStatusList})
    limit 1`);
  if (active.rows.length > 0) return null;
  return endBatch(tx, batchId, now, endAs);
}

/** Moves a running batch to `state` and writes its callback; null when it was not running. */
export async function endBatch(
  tx: Executor,
  batchId: string,
  now: Date,
  state: EndedBatch["state"],
): Promise<EndedBatch | null> {
  const [ended] = await tx
    .update(batches)
    .set({ state, endedAt: now, updatedAt: now })
    .where(and(eq(batches.id, batchId), eq(batches.state, "running")))
    .returning();
  if (!ended) return null;
  return { batchId, state, deliveryId: await writeBatchDelivery(tx, ended, now) };
}

/**
 * The sweep's backstop: ends running batches none of whose items is active (their last two
 * items ended at once, each seeing the other still active), writing their callbacks. The caller
 * runs the after-commit step for what this returns.
 */
export async function endIdleBatches(
  db: Executor,
  args: { now: Date; limit: number },
): Promise<EndedBatch[]> {
  const idle = await db.execute(sql`
    select b.id from ${batches} b
    where b.state = 'running' and not exists (
      select 1 from ${tasks} t
      where t.batch_id = b.id and t.status in (${activeStatusList}))
    order by b.created_at
    limit ${args.limit}`);
  const ended: EndedBatch[] = [];
  for (const row of idle.rows) {
    const batchId = row.id as string;
    const batch = await withTransaction(db, (tx) => endBatchIfDone(tx, batchId, args.now));
    if (batch) ended.push(batch);
  }
  return ended;
}
