import {
  type ActiveTaskStatus,
  type AttemptResult,
  activeTaskStatuses,
  type DoorName,
  type Executor,
  pgClientOf,
  type Task,
  type TaskOutput,
  type TaskStatus,
  type TerminalTaskStatus,
  taskAttempts,
  taskEvents,
  tasks,
  withTransaction,
} from "@ripen/db";
import { and, eq, getTableColumns, inArray, lt, type SQL, sql } from "drizzle-orm";
import { endBatchIfDone } from "./batch-end";
import { writeDelivery } from "./deliveries";
import {
  AccountNotFound,
  IllegalTransition,
  InsufficientCredits,
  InvalidRequest,
  TaskNotFound,
} from "./errors";
import { newId } from "./ids";
import { getCredits, resolveHold } from "./ledger";
import { type AnyModelSpec, normalizeInput, priceOf } from "./models";

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
function toTask(row: Record<string, unknown>): Task {
  const task: Record<string, unknown> = {};
  for (const [key, column] of taskColumns) {
    const value = row[column.name];
    task[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return task as Task;
}

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
  "id" | "accountId" | "model" | "provider" | "price" | "status" | "deadlineAt"
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
 * Writes one prepared task and its hold. An account that cannot afford it is InsufficientCredits;
 * a missing account is AccountNotFound.
 */
export async function writeTask(db: Executor, task: PreparedTask): Promise<CreatedTask> {
  const written = await refusalsAsDomainErrors(db, task, () => writeTasks(db, [task]));
  if (!written[0]) throw new AccountNotFound(task.accountId);
  return written[0];
}

/** Postgres's refusals of a create (a CHECK, a foreign key) as the domain's errors. */
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

/** The rows to create, one per task, from the parallel arrays $1…$12. */
const CREATE_INPUT_SQL = `
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
      $6::integer[], $7::text[], $8::timestamptz[], $9::text[], $10::timestamptz[],
      $11::text[], $12::json[])
      as t(id, account_id, api_key_id, model, input, price, callback_url, deadline_at,
        ledger_id, created_at, door, door_request)`;

/**
 * Inserts tasks with their holds' ledger rows and first events, then adds the holds to their
 * accounts, all from the CTE `input`. Accounts are locked in id order, so statements running at
 * once (in one process or several) cannot deadlock. An account short of credit fails the CHECK
 * `accounts_available_nonnegative`, and the whole statement rolls back.
 */
const CREATE_WRITES_SQL = `
  task as (
    insert into tasks (id, account_id, api_key_id, model, input, price, callback_url,
      deadline_at, next_wake_at, created_at, updated_at, door, door_request)
    select id, account_id, api_key_id, model, input, price, callback_url, deadline_at,
      created_at, created_at, created_at, door, door_request
    from input
    returning id, account_id, model, provider, price, status, deadline_at
  ), hold as (
    insert into ledger_entries (id, account_id, task_id, kind, amount, idempotency_key, created_at)
    select ledger_id, account_id, id, 'hold', price, 'hold:' || id, created_at from input
    returning account_id, amount
  ), event as (
    insert into task_events (task_id, from_status, to_status, source, created_at)
    select id, null, 'queued', 'api', created_at from input
  ), locked as (
    select id from accounts where id in (select account_id from input) order by id
    for no key update
  ), sums as (
    select account_id, sum(amount) as amount from hold group by account_id
  ), held as (
    update accounts a set held = a.held + sums.amount, updated_at = now()
    from sums join locked on locked.id = sums.account_id
    where a.id = sums.account_id
    returning a.id, a.balance - a.held as available
  )`;

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
    on conflict (account_id, key) do update
      set request_hash = excluded.request_hash, task_id = excluded.task_id,
        created_at = excluded.created_at
      where idempotency_keys.created_at < $15::timestamptz
    returning task_id
  ), input as (${CREATE_INPUT_SQL}
    where exists (select 1 from claimed)
  ), ${CREATE_WRITES_SQL}
  ${CREATED_TASKS_SQL}`;

type TaskChanges = Partial<
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
      where id = ${args.taskId} and status in (${sql.join(
        from.map((s) => sql`${s}`),
        sql`, `,
      )}) ${onlyAttempt}
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
    select * from moved`);
  const row = result.rows[0];
  if (!row) return null;
  return { task: toTask(row), from: row.from_status as TaskStatus };
}

export type TaskOutcome =
  | { status: "succeeded"; output: TaskOutput }
  | { status: "failed" | "canceled" | "expired"; errorCode: string; errorMessage: string };

export interface CompleteTaskArgs {
  taskId: string;
  outcome: TaskOutcome;
  source: string;
  /** The upstream attempt that reported this outcome, if one did. */
  attempt?: { number: number; providerTaskId?: string };
  now?: Date;
}

export interface CompleteTaskResult {
  /** The task ended now, by this call. */
  applied: boolean;
  /**
   * For an attempt's result: `applied`; `duplicate` when the attempt already had its result;
   * `late` when it was recorded on the attempt but the task had ended or moved on to another.
   */
  attemptOutcome: "applied" | "duplicate" | "late" | null;
  task: Task | null;
  /**
   * The client callback this ending wrote (the task has a `callback_url`), committed with it.
   * The caller adds its job once the transaction has committed: `enqueueDeliveryOf`.
   */
  deliveryId: string | null;
  /** The batch callback written when this ending ended its batch; enqueued the same way. */
  batchDeliveryId?: string | null;
}

/**
 * Ends a task exactly once and settles its hold in the same transaction: success captures,
 * anything else releases. The poller, the callback receiver, the canceller and the deadline sweep
 * all come through here; whoever arrives second changes nothing on the task. An attempt's result
 * is always recorded on the attempt, even when it no longer decides the task.
 */
export async function completeTask(
  db: Executor,
  args: CompleteTaskArgs,
): Promise<CompleteTaskResult> {
  const now = args.now ?? new Date();
  const { outcome, attempt } = args;
  return withTransaction(db, async (tx) => {
    const changes: TaskChanges =
      outcome.status === "succeeded"
        ? { output: outcome.output, completedAt: now, errorCode: null, errorMessage: null }
        : { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, completedAt: now };
    if (attempt?.providerTaskId) changes.providerTaskId = attempt.providerTaskId;
    const moved = await transitionTask(tx, {
      taskId: args.taskId,
      to: outcome.status satisfies TerminalTaskStatus,
      source: args.source,
      changes,
      detail: {
        ...(outcome.status === "succeeded" ? {} : { code: outcome.errorCode }),
        ...(attempt ? { attempt: attempt.number } : {}),
      },
      attempt: attempt?.number,
      now,
    });
    let attemptOutcome: CompleteTaskResult["attemptOutcome"] = null;
    if (attempt) {
      attemptOutcome = await recordAttemptResult(tx, {
        taskId: args.taskId,
        attempt,
        outcome,
        decided: moved !== null,
        now,
      });
    }
    if (!moved) {
      const [task] = await tx.select().from(tasks).where(eq(tasks.id, args.taskId));
      return { applied: false, attemptOutcome, task: task ?? null, deliveryId: null };
    }
    await resolveHold(tx, {
      taskId: moved.task.id,
      kind: outcome.status === "succeeded" ? "capture" : "release",
    });
    // Attempts still open when the task ends another way will not decide it any more.
    await tx
      .update(taskAttempts)
      .set({ state: "abandoned", endedAt: now })
      .where(
        and(
          eq(taskAttempts.taskId, args.taskId),
          inArray(taskAttempts.state, ["sending", "accepted", "unknown"]),
        ),
      );
    // The outbox: the client's callback exists if and only if this ending commits.
    const deliveryId = await writeDelivery(tx, moved.task, now);
    // The last item of a batch to end ends the batch (and writes its callback).
    const batchDeliveryId = moved.task.batchId
      ? await endBatchIfDone(tx, moved.task.batchId, now)
      : null;
    return { applied: true, attemptOutcome, task: moved.task, deliveryId, batchDeliveryId };
  });
}

/** Writes an attempt's result; the first result of an attempt is kept, later copies are duplicates. */
async function recordAttemptResult(
  tx: Executor,
  args: {
    taskId: string;
    attempt: { number: number; providerTaskId?: string };
    outcome: TaskOutcome;
    decided: boolean;
    now: Date;
  },
): Promise<"applied" | "duplicate" | "late"> {
  const { outcome } = args;
  const result: AttemptResult =
    outcome.status === "succeeded"
      ? { status: "succeeded", urls: outcome.output.urls }
      : {
          status: "failed",
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
        };
  const succeeded = outcome.status === "succeeded";
  const updated = await tx
    .update(taskAttempts)
    .set({
      result,
      resultAt: args.now,
      providerTaskId: sql`coalesce(${taskAttempts.providerTaskId}, ${args.attempt.providerTaskId ?? null})`,
      // The upstream refunds a failed generation (documents 000, 002).
      ...(succeeded ? {} : { upstreamCost: 0, upstreamCostMicros: 0 }),
      ...(args.decided
        ? { state: succeeded ? ("succeeded" as const) : ("failed" as const), endedAt: args.now }
        : {}),
    })
    .where(
      and(
        eq(taskAttempts.taskId, args.taskId),
        eq(taskAttempts.number, args.attempt.number),
        sql`${taskAttempts.resultAt} is null`,
      ),
    )
    .returning({ id: taskAttempts.id });
  if (updated.length === 0) return "duplicate";
  return args.decided ? "applied" : "late";
}

export async function findTask(db: Executor, taskId: string): Promise<Task | null> {
  const [task] = await db.select().from(tasks).where(eq(tasks.id, taskId));
  return task ?? null;
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

/** Records when an active task's job is next expected to run (the sweep's yardstick). */
export async function setNextWake(db: Executor, taskId: string, at: Date): Promise<void> {
  await db
    .update(tasks)
    .set({ nextWakeAt: at })
    .where(and(eq(tasks.id, taskId), inArray(tasks.status, [...activeTaskStatuses])));
}

/**
 * Claims up to `limit` active tasks whose wake-up is overdue (before `before`), oldest first, and
 * moves their wake-up to `recheckAt`: each claimed task drops out of the overdue set, so the next
 * page and the next sweep reach other tasks, and concurrent sweeps skip each other's claims.
 */
export async function claimOverdueWakes(
  db: Executor,
  args: { before: Date; recheckAt: Date; limit: number },
): Promise<string[]> {
  const result = await db.execute(sql`
    update ${tasks} set next_wake_at = ${args.recheckAt}
    where id in (
      select id from ${tasks}
      where status in ('queued', 'submitting', 'running') and next_wake_at < ${args.before}
      order by next_wake_at
      limit ${args.limit}
      for update skip locked
    )
    returning id`);
  return result.rows.map((row) => row.id as string);
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

export function expiredOutcome(): TaskOutcome {
  return {
    status: "expired",
    errorCode: "task_expired",
    errorMessage: "The task did not finish before its deadline; its credits were refunded.",
  };
}
