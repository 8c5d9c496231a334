import { accounts, type DoorName, type Executor, pgClientOf, type Task } from "@ripen/db";
import { eq } from "drizzle-orm";
import {
  AccountNotFound,
  ActiveTaskLimitExceeded,
  InsufficientCredits,
  InvalidRequest,
} from "./errors";
import { newId } from "./ids";
import { getCredits, HOLD_WRITES_SQL, spendLimitRefusal } from "./ledger";
import { type AnyModelSpec, normalizeInput, priceOf } from "./models";
import { toTask } from "./task-machine";

export interface CreateTaskArgs {
  accountId: string;
  apiKeyId?: string | null;
  /** The model, from the catalog (`@ripen/models`): core knows no model by name. */
  model: AnyModelSpec;
  input: unknown;
  callbackUrl?: string | null;
  /**
   * The client's own deadline (`timeout_seconds`, a Ripen extension): whole seconds, at least
   * `MIN_TIMEOUT_SECONDS`, shorter than the model's own. Unset, the model's deadline applies.
   */
  timeoutSeconds?: number;
  /** The front door the create came through (default `native`). */
  door?: DoorName;
  /** The create request as that door received it, for doors that echo it (see `tasks`). */
  doorRequest?: Record<string, unknown> | null;
  /**
   * The door's own price for this request, in credits, when the door has a price list of its
   * own; unset, the model's native price applies.
   */
  price?: number;
  now?: Date;
}

/** The shortest per-request deadline a create may ask for. */
export const MIN_TIMEOUT_SECONDS = 10;

/** When the task must have ended: the model's deadline, or the client's shorter one. */
function deadlineOf(spec: AnyModelSpec, timeoutSeconds: number | undefined, now: Date): Date {
  if (timeoutSeconds === undefined) return new Date(now.getTime() + spec.deadlineMs);
  const limitSeconds = Math.ceil(spec.deadlineMs / 1000);
  if (
    !Number.isSafeInteger(timeoutSeconds) ||
    timeoutSeconds < MIN_TIMEOUT_SECONDS ||
    timeoutSeconds >= limitSeconds
  ) {
    throw new InvalidRequest(
      `'timeout_seconds' must be a whole number of seconds from ${MIN_TIMEOUT_SECONDS} to ${limitSeconds - 1}: it must be shorter than ${spec.id}'s own deadline of ${limitSeconds} seconds.`,
      "timeout_seconds",
    );
  }
  return new Date(now.getTime() + timeoutSeconds * 1000);
}

/**
 * Validates and prices a task, then inserts it with its credit hold and its first event in one
 * statement. The hold is the UPDATE's own WHERE clause, so concurrent creates serialize on the
 * account row only for that statement and can never overdraw it. The caller enqueues the work
 * after commit; `next_wake_at` = now lets the sweep cover a crash in between.
 */
/** What a create returns: enough to enqueue, log and answer, and cheap to read back. */
export type CreatedTask = Pick<
  Task,
  | "id"
  | "accountId"
  | "model"
  | "provider"
  | "price"
  | "status"
  | "deadlineAt"
  | "createdAt"
  | "batchId"
> & {
  /**
   * The account's available credits right after the statement that wrote this task (its hold
   * included); absent when the task was not written now (an idempotent replay).
   */
  creditsAvailable?: number;
};

/** A validated, priced task with its ids, ready to be written. */
export interface PreparedTask {
  id: string;
  accountId: string;
  apiKeyId: string | null;
  model: string;
  input: Record<string, unknown>;
  price: number;
  callbackUrl: string | null;
  deadlineAt: Date;
  ledgerId: string;
  createdAt: Date;
  door: DoorName;
  doorRequest: Record<string, unknown> | null;
}

/** Validates and prices a create; throws InvalidRequest or ModelNotFound naming the problem. */
export function prepareTask(args: CreateTaskArgs): PreparedTask {
  const spec = args.model;
  const input = normalizeInput(spec, args.input);
  const now = args.now ?? new Date();
  return {
    id: newId("task", now.getTime()),
    accountId: args.accountId,
    apiKeyId: args.apiKeyId ?? null,
    model: spec.id,
    input,
    price: args.price ?? priceOf(spec, input),
    callbackUrl: args.callbackUrl ?? null,
    deadlineAt: deadlineOf(spec, args.timeoutSeconds, now),
    ledgerId: newId("ledger", now.getTime()),
    createdAt: now,
    door: args.door ?? "native",
    doorRequest: args.doorRequest ?? null,
  };
}

/** Creates one task with its hold: `prepareTask`, then `writeTask`. */
export async function createTask(db: Executor, args: CreateTaskArgs): Promise<CreatedTask> {
  return writeTask(db, prepareTask(args));
}

/**
 * Writes one prepared task and its hold. An account that cannot afford it is InsufficientCredits,
 * one at its active-task limit ActiveTaskLimitExceeded, a key past a spend limit
 * SpendLimitExceeded; a missing account is AccountNotFound.
 */
export async function writeTask(db: Executor, task: PreparedTask): Promise<CreatedTask> {
  const written = await refusalsAsDomainErrors(db, task, () => writeTasks(db, [task]));
  if (!written[0]) throw new AccountNotFound(task.accountId);
  return written[0];
}

/**
 * Postgres's refusals of a create (a CHECK, a foreign key) as the domain's errors, with what the
 * client needs to know read after the refusal (a group's refusal is retried alone first, so the
 * task is the one refused).
 */
async function refusalsAsDomainErrors<T>(
  db: Executor,
  task: PreparedTask,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const constraint = (error as { constraint?: string }).constraint;
    if (constraint === "accounts_available_nonnegative") {
      const credits = await getCredits(db, task.accountId);
      throw new InsufficientCredits(task.price, credits.available);
    }
    if (constraint === "accounts_active_tasks_within_limit") {
      const [account] = await db
        .select({ limit: accounts.maxActiveTasks })
        .from(accounts)
        .where(eq(accounts.id, task.accountId));
      throw new ActiveTaskLimitExceeded(account?.limit ?? 0);
    }
    if (constraint === "api_key_spend_within_cap" && task.apiKeyId) {
      throw await spendLimitRefusal(db, {
        keyId: task.apiKeyId,
        amount: task.price,
        at: task.createdAt,
      });
    }
    // A missing account fails the tasks → accounts (or idempotency_keys → accounts) foreign key.
    if (
      constraint === "tasks_account_id_accounts_id_fk" ||
      constraint === "idempotency_keys_account_id_accounts_id_fk"
    ) {
      throw new AccountNotFound(task.accountId);
    }
    throw error;
  }
}

function createdTaskOf(row: Record<string, unknown>): CreatedTask {
  const task = toTask(row) as CreatedTask;
  if (row.credits_available !== null && row.credits_available !== undefined) {
    task.creditsAvailable = Number(row.credits_available);
  }
  return task;
}

/** The parameters $1…$12 of a create statement: parallel arrays, one element per task. */
function createValues(prepared: PreparedTask[]): unknown[] {
  const column = <K extends keyof PreparedTask>(key: K) => prepared.map((t) => t[key]);
  return [
    column("id"),
    column("accountId"),
    column("apiKeyId"),
    column("model"),
    prepared.map((t) => JSON.stringify(t.input)),
    column("price"),
    column("callbackUrl"),
    column("deadlineAt"),
    column("ledgerId"),
    column("createdAt"),
    column("door"),
    prepared.map((t) => (t.doorRequest === null ? null : JSON.stringify(t.doorRequest))),
  ];
}

/**
 * Writes prepared tasks and their holds in one statement, all or none; Postgres's own error
 * (a CHECK, a foreign key) is thrown as it is.
 */
export async function writeTasks(db: Executor, prepared: PreparedTask[]): Promise<CreatedTask[]> {
  const result = await pgClientOf(db).query({
    // Named: each connection plans it once, not per request (this is the hottest statement).
    name: "ripen_create_tasks",
    text: CREATE_TASKS_SQL,
    values: createValues(prepared),
  });
  return result.rows.map(createdTaskOf);
}

/** An `Idempotency-Key` a create claims for its account (see `createTaskOnce`). */
export interface IdempotencyClaim {
  key: string;
  /** SHA-256 of the endpoint and the canonical body. */
  requestHash: string;
  /** A row of the key created before this has lapsed: it is replaced, the key used anew. */
  expiredBefore: Date;
}

/**
 * Claims the account's idempotency key for this task and writes the task with its hold, in one
 * statement: the key row is inserted first, and everything else is written only if that insert
 * claimed the key. Another create holding the key uncommitted makes the insert wait for it (the
 * primary key's lock), then find it taken. Returns null when the key belonged to someone else (a
 * live row, committed): nothing was written and the caller reads that row. Because the claim
 * comes before the account row is locked, two creates with one key never wait on each other in
 * opposite orders.
 */
export async function writeClaimedTask(
  db: Executor,
  task: PreparedTask,
  claim: IdempotencyClaim,
): Promise<CreatedTask | null> {
  const result = await refusalsAsDomainErrors(db, task, () =>
    pgClientOf(db).query({
      name: "ripen_create_claimed_task",
      text: CREATE_CLAIMED_TASK_SQL,
      values: [...createValues([task]), claim.key, claim.requestHash, claim.expiredBefore],
    }),
  );
  const row = result.rows[0];
  return row ? createdTaskOf(row) : null;
}

/**
 * What an insert into `idempotency_keys` does when the account already has the key: a row
 * created before `expiredBefore` (a timestamptz parameter) has lapsed and becomes this request's,
 * naming whatever it inserted (a task or a batch; the other is null); a live row is left alone,
 * so the insert claims nothing. Task and batch claims both end with it.
 */
export const takeOverLapsedKey = (expiredBefore: string) => `
    on conflict (account_id, key) do update
      set request_hash = excluded.request_hash, task_id = excluded.task_id,
        batch_id = excluded.batch_id, created_at = excluded.created_at
      where idempotency_keys.created_at < ${expiredBefore}::timestamptz`;

/** The rows to create, one per task, from the parallel arrays $1…$12. */
const CREATE_INPUT_SQL = `
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
      $6::integer[], $7::text[], $8::timestamptz[], $9::text[], $10::timestamptz[],
      $11::text[], $12::json[])
      as t(id, account_id, api_key_id, model, input, price, callback_url, deadline_at,
        ledger_id, created_at, door, door_request)`;

/**
 * Inserts tasks with their first events and their holds (`HOLD_WRITES_SQL`, in ledger.ts), all
 * from the CTE `input`. An account short of credit or at its active-task limit, or a key past a
 * spend limit, fails the whole statement.
 */
const CREATE_WRITES_SQL = `
  task as (
    insert into tasks (id, account_id, api_key_id, model, input, price, callback_url,
      deadline_at, next_wake_at, created_at, updated_at, door, door_request)
    select id, account_id, api_key_id, model, input, price, callback_url, deadline_at,
      created_at, created_at, created_at, door, door_request
    from input
    returning id, account_id, model, provider, price, status, deadline_at, created_at, batch_id
  ), event as (
    insert into task_events (task_id, from_status, to_status, source, created_at)
    select id, null, 'queued', 'api', created_at from input
  ), ${HOLD_WRITES_SQL}`;

/** The tasks written, each with its account's available credits once the statement's holds are in. */
const CREATED_TASKS_SQL = `
  select task.*, held.available as credits_available
  from task left join held on held.id = task.account_id`;

const CREATE_TASKS_SQL = `
  with input as (${CREATE_INPUT_SQL}
  ), ${CREATE_WRITES_SQL}
  ${CREATED_TASKS_SQL}`;

/**
 * One task ($1…$12 of one element each) behind the claim of its idempotency key ($13, request
 * hash $14; a row created before $15 has lapsed and is taken over). Every write reads `input`,
 * which is empty unless `claimed` inserted (or took over) the key row, so the claim is the first
 * lock this statement takes. The key row references the task inserted after it: foreign keys are
 * checked at the end of the statement.
 */
const CREATE_CLAIMED_TASK_SQL = `
  with claimed as (
    insert into idempotency_keys (account_id, key, request_hash, task_id, created_at)
    values (($2::text[])[1], $13::text, $14::text, ($1::text[])[1], ($10::timestamptz[])[1])
    ${takeOverLapsedKey("$15")}
    returning task_id
  ), input as (${CREATE_INPUT_SQL}
    where exists (select 1 from claimed)
  ), ${CREATE_WRITES_SQL}
  ${CREATED_TASKS_SQL}`;
