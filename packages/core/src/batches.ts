import {
  type Batch,
  batches,
  type Executor,
  pgClientOf,
  type Task,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, desc, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { monotonicFactory } from "ulid";
import {
  BATCH_COMPLETED_EVENT,
  BatchNotFound,
  type BatchSummary,
  type BatchView,
  batchView,
  endBatchIfDone,
  endIdleBatches,
  getBatchForAccount,
  getBatchSummary,
  summarizeBatch,
  writeBatchDelivery,
} from "./batch-end";
import { writeDelivery } from "./deliveries";
import { DomainError, InsufficientCredits, InvalidRequest } from "./errors";
import { newId } from "./ids";
import { getCredits } from "./ledger";
import type { AnyModelSpec } from "./models";
import { type PreparedTask, prepareTask } from "./tasks";

/** The most items one batch may hold. */
export const BATCH_MAX_ITEMS = 10_000;

/** One item of a batch: the native create body. `kind` is inferred from the model when absent. */
export interface BatchRequestItem {
  model: string;
  input: unknown;
  callback_url?: string;
  kind?: "image" | "video";
}

export interface CreateBatchArgs {
  accountId: string;
  apiKeyId?: string | null;
  /** The items, as the client sent them (each validated here, reported by index). */
  requests: unknown[];
  /** Accept the valid items and report the others, instead of rejecting the whole batch. */
  partial?: boolean;
  /** The batch's own callback (`batch.completed`), when it ends. */
  callbackUrl?: string | null;
  scheduleRunId?: string | null;
  now?: Date;
  /** The model catalog (`getModel` from `@ripen/models`): throws ModelNotFound. */
  resolveModel(id: string): AnyModelSpec;
  /**
   * The SSRF guard's submit-time check of an item's URLs (the API's `checkCreateUrls`); throws
   * InvalidRequest naming the field. Also called with `input` undefined for the batch's own
   * `callback_url`. Optional: core knows no URL policy.
   */
  checkUrls?(callbackUrl: unknown, input: unknown): void;
}

/** One refused item: its index in `requests`, the field at fault, and why. */
export interface BatchItemError {
  index: number;
  field?: string;
  code: string;
  message: string;
}

/** A batch with bad items (all or nothing by default): 400 listing every bad item by index. */
export class BatchInvalid extends DomainError {
  readonly code = "invalid_request";
  constructor(readonly errors: BatchItemError[]) {
    const first = errors[0];
    const shown = errors
      .slice(0, 3)
      .map((e) => `#${e.index}${e.field ? ` (${e.field})` : ""}: ${e.message}`)
      .join("; ");
    super(
      errors.length === 0 || !first
        ? "The batch has no valid item."
        : `${errors.length} of the batch's items ${errors.length === 1 ? "is" : "are"} invalid (listed in 'errors' by index): ${shown}${errors.length > 3 ? "; …" : ""}`,
    );
  }
}

/** What `createBatch` returns: the batch row, its items' ids in submission order, refusals. */
export interface CreatedBatch {
  batch: Batch;
  taskIds: string[];
  rejected: BatchItemError[];
  /** The accepted items' total price: what was held. */
  price: number;
}

/** How many rows one insert statement carries. */
const INSERT_CHUNK = 2_000;

const kinds = new Set(["image", "video"]);

/**
 * Validates one batch item (a native create body) into a prepared task, or throws a DomainError
 * naming the problem. Schedules check their templates with it too.
 */
export function prepareBatchItem(
  raw: unknown,
  args: Pick<CreateBatchArgs, "accountId" | "apiKeyId" | "resolveModel" | "checkUrls">,
  now?: Date,
): PreparedTask {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidRequest("Each request must be an object (a native create body).");
  }
  const item = raw as Record<string, unknown>;
  if (typeof item.model !== "string" || item.model === "") {
    throw new InvalidRequest("'model' is required and must be a string.", "model");
  }
  const model = args.resolveModel(item.model);
  if (item.kind !== undefined && (!kinds.has(item.kind as string) || item.kind !== model.kind)) {
    throw new InvalidRequest(
      `'kind' must be "${model.kind}" for ${model.id} (or left out: it is inferred from the model).`,
      "kind",
    );
  }
  if (item.callback_url !== undefined && item.callback_url !== null) {
    if (typeof item.callback_url !== "string") {
      throw new InvalidRequest("'callback_url' must be a string.", "callback_url");
    }
  }
  if (item.timeout_seconds !== undefined && typeof item.timeout_seconds !== "number") {
    throw new InvalidRequest("'timeout_seconds' must be a number.", "timeout_seconds");
  }
  args.checkUrls?.(item.callback_url, item.input);
  return prepareTask({
    accountId: args.accountId,
    apiKeyId: args.apiKeyId,
    model,
    input: item.input,
    callbackUrl: (item.callback_url as string | undefined) ?? null,
    timeoutSeconds: item.timeout_seconds as number | undefined,
    now,
  });
}

/** A batch item with ids from the batch's monotonic sequence: ordering by id is submission order. */
function prepareItem(
  raw: unknown,
  args: Pick<CreateBatchArgs, "accountId" | "apiKeyId" | "resolveModel" | "checkUrls">,
  now: Date,
  ids: { task: string; ledger: string },
): PreparedTask {
  const prepared = prepareBatchItem(raw, args, now);
  prepared.id = ids.task;
  prepared.ledgerId = ids.ledger;
  return prepared;
}

function itemError(index: number, error: unknown): BatchItemError {
  if (!(error instanceof DomainError)) throw error;
  const field = (error as { field?: unknown }).field;
  return {
    index,
    ...(typeof field === "string" ? { field } : {}),
    code: error.code,
    message: error.message,
  };
}

/**
 * Inserts items with their holds' ledger rows and first events, without touching the account:
 * the caller adds the total in one update afterwards (`HOLD_TOTAL_SQL`).
 */
const INSERT_ITEMS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::integer[],
      $6::text[], $7::timestamptz[], $8::text[])
      as t(id, api_key_id, model, input, price, callback_url, deadline_at, ledger_id)
  ), task as (
    insert into tasks (id, account_id, api_key_id, model, input, price, callback_url,
      deadline_at, next_wake_at, batch_id, created_at, updated_at)
    select id, $9::text, api_key_id, model, input, price, callback_url, deadline_at,
      $11::timestamptz, $10::text, $11::timestamptz, $11::timestamptz
    from input
  ), hold as (
    insert into ledger_entries (id, account_id, task_id, kind, amount, idempotency_key, created_at)
    select ledger_id, $9::text, id, 'hold', price, 'hold:' || id, $11::timestamptz from input
  )
  insert into task_events (task_id, from_status, to_status, source, created_at)
  select id, null, 'queued', 'api', $11::timestamptz from input`;

/** One update for the whole batch; an unaffordable total fails `accounts_available_nonnegative`. */
const HOLD_TOTAL_SQL = `
  update accounts set held = held + $2::bigint, updated_at = now() where id = $1 returning id`;

/** A batch's items validated and priced, nothing written: what `createBatch` would hold. */
export interface PreparedBatch {
  /** The accepted items, in submission order (ids from the batch's monotonic sequence). */
  prepared: PreparedTask[];
  /** Their indexes in `requests`, parallel to `prepared`. */
  indexes: number[];
  rejected: BatchItemError[];
  /** The accepted items' total price: what `createBatch` holds. */
  total: number;
}

/**
 * Checks a batch create (its size, its own callback URL, every item) and prices it, writing
 * nothing: `createBatch` runs exactly this before it writes, and `POST /v1/cost` answers with it,
 * so a quote and a charge cannot differ. Throws BatchInvalid as `createBatch` does.
 */
export function prepareBatch(
  args: Omit<CreateBatchArgs, "scheduleRunId" | "now">,
  now: Date = new Date(),
): PreparedBatch {
  if (!Array.isArray(args.requests) || args.requests.length === 0) {
    throw new InvalidRequest("'requests' must be a non-empty array of create bodies.", "requests");
  }
  if (args.requests.length > BATCH_MAX_ITEMS) {
    throw new InvalidRequest(
      `A batch holds at most ${BATCH_MAX_ITEMS} requests (${args.requests.length} were sent); split it.`,
      "requests",
    );
  }
  if (args.callbackUrl !== undefined && args.callbackUrl !== null) {
    if (typeof args.callbackUrl !== "string" || !URL.canParse(args.callbackUrl)) {
      throw new InvalidRequest("'callback_url' must be an http(s) URL.", "callback_url");
    }
    if (!/^https?:$/.test(new URL(args.callbackUrl).protocol)) {
      throw new InvalidRequest("'callback_url' must be an http(s) URL.", "callback_url");
    }
    args.checkUrls?.(args.callbackUrl, undefined);
  }

  const nextUlid = monotonicFactory();
  const prepared: PreparedTask[] = [];
  const indexes: number[] = [];
  const rejected: BatchItemError[] = [];
  for (const [index, raw] of args.requests.entries()) {
    try {
      const ids = {
        task: `task_${nextUlid(now.getTime()).toLowerCase()}`,
        ledger: newId("ledger", now.getTime()),
      };
      prepared.push(prepareItem(raw, args, now, ids));
      indexes.push(index);
    } catch (error) {
      rejected.push(itemError(index, error));
    }
  }
  if (rejected.length > 0 && (!args.partial || prepared.length === 0)) {
    throw new BatchInvalid(rejected);
  }
  const total = prepared.reduce((sum, t) => sum + t.price, 0);
  return { prepared, indexes, rejected, total };
}

/**
 * Validates every item (model, input, price, URLs), then writes the batch, its items, their holds
 * and first events in one transaction: chunked multi-row inserts, then ONE update of the account
 * for the total, which the `accounts_available_nonnegative` CHECK refuses when it cannot be held
 * (InsufficientCredits, nothing written). Each item has its own hold row, so it settles alone,
 * exactly like a single task. By default one bad item rejects the batch (BatchInvalid listing
 * every bad item by index); `partial` accepts the valid ones and returns the others in
 * `rejected`. Item ids are monotonic: ordered by id, items are in submission order. The caller
 * enqueues `taskIds` after commit (in bulk, at the batch priority); `next_wake_at` = now lets the
 * sweep cover a failure in between.
 */
export async function createBatch(db: Executor, args: CreateBatchArgs): Promise<CreatedBatch> {
  const now = args.now ?? new Date();
  const { prepared, rejected, total } = prepareBatch(args, now);
  // A cheap early refusal: no 10,000 rows written to be rolled back. The CHECK below decides.
  const credits = await getCredits(db, args.accountId);
  if (credits.available < total) throw new InsufficientCredits(total, credits.available);

  const batchId = newId("batch", now.getTime());
  const batch = await withTransaction(db, async (tx) => {
    const [row] = await tx
      .insert(batches)
      .values({
        id: batchId,
        accountId: args.accountId,
        apiKeyId: args.apiKeyId ?? null,
        total: prepared.length,
        callbackUrl: args.callbackUrl ?? null,
        scheduleRunId: args.scheduleRunId ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    const client = pgClientOf(tx);
    for (let start = 0; start < prepared.length; start += INSERT_CHUNK) {
      const chunk = prepared.slice(start, start + INSERT_CHUNK);
      const column = <K extends keyof PreparedTask>(key: K) => chunk.map((t) => t[key]);
      await client.query({
        name: "ripen_create_batch_items",
        text: INSERT_ITEMS_SQL,
        values: [
          column("id"),
          column("apiKeyId"),
          column("model"),
          chunk.map((t) => JSON.stringify(t.input)),
          column("price"),
          column("callbackUrl"),
          column("deadlineAt"),
          column("ledgerId"),
          args.accountId,
          batchId,
          now,
        ],
      });
    }
    try {
      await client.query("savepoint ripen_batch_hold");
      await client.query(HOLD_TOTAL_SQL, [args.accountId, total]);
    } catch (error) {
      if ((error as { constraint?: string }).constraint === "accounts_available_nonnegative") {
        await client.query("rollback to savepoint ripen_batch_hold");
        const after = await getCredits(tx, args.accountId);
        throw new InsufficientCredits(total, after.available);
      }
      throw error;
    }
    return row!;
  });
  return { batch, taskIds: prepared.map((t) => t.id), rejected, price: total };
}

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

/** Items canceled per transaction by `cancelBatch`. */
const CANCEL_CHUNK = 500;

/**
 * Cancels a chunk of the batch's items not yet ended (after `afterId`, in id order): moves them to
 * `canceled` with their events in one statement that locks each row in an active status (an item
 * another path ends meanwhile is skipped), so each ends exactly once. Returns the tasks moved.
 */
const CANCEL_ITEMS_SQL = `
  with current as (
    select id, status from tasks
    where batch_id = $1 and id > $2 and status in ('queued', 'submitting', 'running')
    order by id limit $3
    for update
  ), moved as (
    update tasks t set status = 'canceled', error_code = $4, error_message = $5,
      completed_at = $6, next_wake_at = null, updated_at = $6
    from current where t.id = current.id and t.status in ('queued', 'submitting', 'running')
    returning t.*, current.status as from_status
  ), event as (
    insert into task_events (task_id, from_status, to_status, source, detail, created_at)
    select id, from_status, 'canceled', $7::text, $8::jsonb, $6 from moved
  )
  select * from moved order by id`;

/** Releases the holds of the tasks $1 (resolution ids $2), once each, and the account's total. */
const RELEASE_HOLDS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::text[]) as t(task_id, ledger_id)
  ), hold as (
    select l.id, l.account_id, l.amount, input.task_id, input.ledger_id
    from input join ledger_entries l on l.idempotency_key = 'hold:' || input.task_id
    where l.kind = 'hold'
  ), resolution as (
    insert into ledger_entries (id, account_id, task_id, kind, amount, hold_id, idempotency_key)
    select ledger_id, account_id, task_id, 'release', amount, id, 'resolve:' || task_id from hold
    on conflict do nothing
    returning account_id, amount
  ), sums as (
    select account_id, sum(amount) as amount from resolution group by account_id
  )
  update accounts a set held = a.held - sums.amount, updated_at = now()
  from sums where a.id = sums.account_id
  returning a.id`;

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
 * Cancels a batch: every item not yet ended is canceled and its hold released, exactly as
 * `cancelTask` would (task → canceled with its event, hold released once, open attempts
 * abandoned, the item's callback written to the outbox), in chunks of `CANCEL_CHUNK` items per
 * transaction, so a 10,000-item cancel never holds its locks for long. Then the batch is marked
 * `canceled` and its own callback written. Items that end meanwhile another way are left as they
 * end. Returns the items canceled and the deliveries to enqueue after commit.
 */
export async function cancelBatch(
  db: Executor,
  args: { accountId: string; batchId: string; now: Date; source?: string },
): Promise<{ summary: BatchSummary; canceled: string[]; deliveryIds: string[] }> {
  const batch = await getBatchForAccount(db, args.accountId, args.batchId);
  const canceled: string[] = [];
  const deliveryIds: string[] = [];
  const source = args.source ?? "api";
  const message =
    "The task was canceled by its owner (its batch was canceled); its credits were refunded.";
  let after = "";
  for (;;) {
    const moved = await retryDeadlocks(() =>
      withTransaction(db, async (tx) => {
        const client = pgClientOf(tx);
        const result = await client.query(CANCEL_ITEMS_SQL, [
          batch.id,
          after,
          CANCEL_CHUNK,
          "task_canceled",
          message,
          args.now,
          source,
          JSON.stringify({ code: "task_canceled", batch: batch.id }),
        ]);
        const rows = result.rows as Array<Record<string, unknown>>;
        if (rows.length === 0) return rows;
        const ids = rows.map((r) => r.id as string);
        await client.query(RELEASE_HOLDS_SQL, [
          ids,
          ids.map(() => newId("ledger", args.now.getTime())),
        ]);
        await client.query(
          `update task_attempts set state = 'abandoned', ended_at = $2
         where task_id = any($1::text[]) and state in ('sending', 'accepted', 'unknown')`,
          [ids, args.now],
        );
        for (const row of rows) {
          if (!row.callback_url) continue;
          const [task] = await tx
            .select()
            .from(tasks)
            .where(eq(tasks.id, row.id as string));
          const deliveryId = task ? await writeDelivery(tx, task, args.now) : null;
          if (deliveryId) deliveryIds.push(deliveryId);
        }
        return rows;
      }),
    );
    if (moved.length === 0) break;
    for (const row of moved) canceled.push(row.id as string);
    after = moved.at(-1)!.id as string;
  }
  const batchDelivery = await withTransaction(db, async (tx) => {
    const [locked] = await tx.select().from(batches).where(eq(batches.id, batch.id)).for("update");
    if (locked?.state !== "running") return null;
    const [updated] = await tx
      .update(batches)
      .set({ state: "canceled", endedAt: args.now, updatedAt: args.now })
      .where(eq(batches.id, batch.id))
      .returning();
    return writeBatchDelivery(tx, updated!, args.now);
  });
  if (batchDelivery) deliveryIds.push(batchDelivery);
  const summary = await getBatchSummary(db, args.accountId, batch.id, args.now);
  return { summary, canceled, deliveryIds };
}

export {
  BATCH_COMPLETED_EVENT,
  BatchNotFound,
  type BatchSummary,
  type BatchView,
  batchView,
  endBatchIfDone,
  endIdleBatches,
  getBatchForAccount,
  getBatchSummary,
  summarizeBatch,
  writeBatchDelivery,
};
