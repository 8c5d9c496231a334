import { type Batch, batches, type Executor, pgClientOf, withTransaction } from "@ripen/db";
import { monotonicFactory } from "ulid";
import { DomainError, InsufficientCredits, InvalidRequest } from "./errors";
import { claimKeyForBatch, findKeyedBatch, IDEMPOTENCY_KEY_TTL_MS } from "./idempotency";
import { newId } from "./ids";
import { getCredits, HOLD_ROWS_SQL, holdBatchTotal } from "./ledger";
import type { AnyModelSpec } from "./models";
import { type IdempotencyClaim, type PreparedTask, prepareTask } from "./task-create";
import type { TaskOrder } from "./tasks";

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
  /**
   * Admission control over the checked items, before anything is written: throws (say,
   * CapacityExceeded) to refuse the batch, or answers when its last item should have started.
   */
  admit?(items: readonly PreparedTask[]): Promise<Date | null>;
  /** The `Idempotency-Key` this batch claims (see `createBatchOnce`). */
  idempotency?: IdempotencyClaim;
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
  /** The accepted items as the queue orders them (`taskIds` order): what the caller enqueues. */
  items: TaskOrder[];
  rejected: BatchItemError[];
  /** The accepted items' total price: what was held. */
  price: number;
  /** The accepted items' model, in `taskIds` order. */
  models: string[];
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
 * Inserts items with their first events and their holds' ledger rows (`HOLD_ROWS_SQL`), without
 * touching the account: the caller adds the total in one update afterwards (`holdBatchTotal`).
 */
const INSERT_ITEMS_SQL = `
  with input as (
    select t.*, $9::text as account_id, $11::timestamptz as created_at
    from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::integer[],
      $6::text[], $7::timestamptz[], $8::text[])
      as t(id, api_key_id, model, input, price, callback_url, deadline_at, ledger_id)
  ), task as (
    insert into tasks (id, account_id, api_key_id, model, input, price, callback_url,
      deadline_at, next_wake_at, batch_id, created_at, updated_at)
    select id, account_id, api_key_id, model, input, price, callback_url, deadline_at,
      created_at, $10::text, created_at, created_at
    from input
  ), ${HOLD_ROWS_SQL}
  insert into task_events (task_id, from_status, to_status, source, created_at)
  select id, null, 'queued', 'api', created_at from input`;

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
 * and first events in one transaction: chunked multi-row inserts, then ONE statement holding the
 * total on the account and counting it toward the key's spend windows, which the CHECKs refuse
 * when it cannot be held (InsufficientCredits, SpendLimitExceeded: nothing written). Items are not
 * active tasks (the active-task limit is for interactive creates). Each item has its own hold row, so it settles alone,
 * exactly like a single task. By default one bad item rejects the batch (BatchInvalid listing
 * every bad item by index); `partial` accepts the valid ones and returns the others in
 * `rejected`. Item ids are monotonic: ordered by id, items are in submission order. The caller
 * enqueues `items` after commit (in bulk, each due by its deadline); `next_wake_at` = now lets the
 * sweep cover a failure in between.
 */
export async function createBatch(db: Executor, args: CreateBatchArgs): Promise<CreatedBatch> {
  const now = args.now ?? new Date();
  const { prepared, rejected, total } = prepareBatch(args, now);
  // A cheap early refusal: no 10,000 rows written to be rolled back. The CHECK below decides.
  const credits = await getCredits(db, args.accountId);
  if (credits.available < total) throw new InsufficientCredits(total, credits.available);

  const estimatedEndAt = args.admit ? await args.admit(prepared) : null;
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
        estimatedEndAt,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (
      args.idempotency &&
      !(await claimKeyForBatch(tx, {
        accountId: args.accountId,
        batchId,
        claim: args.idempotency,
        createdAt: now,
      }))
    ) {
      throw new KeyTaken();
    }
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
    await holdBatchTotal(tx, {
      accountId: args.accountId,
      apiKeyId: args.apiKeyId ?? null,
      total,
      createdAt: now,
    });
    return row!;
  });
  return {
    batch,
    taskIds: prepared.map((t) => t.id),
    items: prepared.map((t) => ({
      id: t.id,
      deadlineAt: t.deadlineAt,
      createdAt: now,
      batchId: batch.id,
      status: "queued" as const,
    })),
    rejected,
    price: total,
    models: prepared.map((t) => t.model),
  };
}

/** The batch's key belongs to another request: its transaction rolls back. */
class KeyTaken extends Error {}

/** A keyed batch create's outcome: the batch it made, or the one its key had made before. */
export type CreateBatchOnceResult = { created: CreatedBatch } | { replayOf: string };

/**
 * Creates a batch at most once per (account, key) within `IDEMPOTENCY_KEY_TTL_MS`, as
 * `createTaskOnce` does a task: a key that already made a batch answers its id before anything is
 * checked or admitted; otherwise the batch's transaction claims the key (`claimKeyForBatch`), so
 * the key exists exactly when its batch does, and a request racing one in flight with the same
 * key waits for its commit and answers its batch. Another request's key: IdempotencyKeyReused.
 */
export async function createBatchOnce(
  db: Executor,
  args: CreateBatchArgs,
  key: { key: string; requestHash: string },
): Promise<CreateBatchOnceResult> {
  const now = args.now ?? new Date();
  const claim = { ...key, expiredBefore: new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS) };
  // Twice at most, as createTaskOnce: a claimed row only vanishes if it lapsed and was taken over.
  for (let round = 0; round < 2; round++) {
    const made = await findKeyedBatch(db, args.accountId, claim);
    if (made) return { replayOf: made };
    try {
      return { created: await createBatch(db, { ...args, now, idempotency: claim }) };
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
    }
  }
  throw new Error(`idempotency key of account ${args.accountId} could be neither claimed nor read`);
}
