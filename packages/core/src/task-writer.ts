import { type Executor, pgClientOf } from "@ripen/db";
import {
  type CreatedTask,
  type CreateTaskArgs,
  createTask,
  type PreparedTask,
  prepareTask,
  toTask,
} from "./tasks";

/**
 * Inserts many tasks with their holds, ledger rows and events in one statement. Accounts are
 * locked in id order before the holds are added, so batches running at once (in one process or
 * several) cannot deadlock. Any account short of credit fails the CHECK and the whole statement
 * rolls back. Parameters are parallel arrays, one element per task.
 */
const CREATE_TASKS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::provider[],
      $6::jsonb[], $7::integer[], $8::text[], $9::timestamptz[], $10::text[], $11::timestamptz[])
      as t(id, account_id, api_key_id, model, provider, input, price, callback_url, deadline_at,
        ledger_id, created_at)
  ), task as (
    insert into tasks (id, account_id, api_key_id, model, provider, input, price, callback_url,
      deadline_at, next_wake_at, created_at, updated_at)
    select id, account_id, api_key_id, model, provider, input, price, callback_url, deadline_at,
      created_at, created_at, created_at
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
    returning a.id
  )
  select task.* from task where (select count(*) from held) > 0`;

export interface TaskWriterOptions {
  /** Most tasks in one statement (64). */
  maxBatch?: number;
  /** Statements in flight at once (2): one is written while the next batch gathers. */
  maxInFlight?: number;
}

export interface TaskWriter {
  /** Same contract as `createTask`: validates, prices, holds and inserts, or throws. */
  create(args: CreateTaskArgs): Promise<CreatedTask>;
  /** Statements of several tasks written, and those that failed and were retried one by one. */
  readonly stats: { batches: number; fallbacks: number };
}

interface Pending {
  task: PreparedTask;
  args: CreateTaskArgs;
  resolve(task: CreatedTask): void;
  reject(error: unknown): void;
}

/**
 * Group commit for creates. Requests that arrive while a statement is in flight are written
 * together by the next one: one account-row lock and one commit (one WAL flush) for the batch
 * instead of one each. That is what lets many clients of one account, whose creates would
 * otherwise queue on its row, be served at the rate the disk commits batches. A batch that fails
 * (an account short of credit, a lost connection) is retried one task at a time through
 * `createTask`, so every request gets exactly the answer it would have had alone.
 */
export function createTaskWriter(db: Executor, options: TaskWriterOptions = {}): TaskWriter {
  const maxBatch = options.maxBatch ?? 64;
  const maxInFlight = options.maxInFlight ?? 2;
  const waiting: Pending[] = [];
  let inFlight = 0;
  const stats = { batches: 0, fallbacks: 0 };

  async function write(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await createTask(db, only!.args).then(only!.resolve, only!.reject);
      return;
    }
    stats.batches++;
    try {
      const result = await pgClientOf(db).query({
        name: "ripen_create_tasks",
        text: CREATE_TASKS_SQL,
        values: columnsOf(batch.map((p) => p.task)),
      });
      const byId = new Map(result.rows.map((row) => [row.id as string, row]));
      for (const pending of batch) {
        const row = byId.get(pending.task.id);
        if (row) pending.resolve(toTask(row) as CreatedTask);
        else pending.reject(new Error(`task ${pending.task.id} was not written`));
      }
    } catch {
      stats.fallbacks++;
      // Which task caused it is unknown: each one alone gets its own answer.
      await Promise.all(batch.map((p) => createTask(db, p.args).then(p.resolve, p.reject)));
    }
  }

  function pump(): void {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = waiting.splice(0, maxBatch);
      inFlight++;
      void write(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    stats,
    async create(args) {
      // Validation and pricing fail here, for this request alone.
      const task = prepareTask(args);
      return new Promise<CreatedTask>((resolve, reject) => {
        waiting.push({ task, args: { ...args, now: task.createdAt }, resolve, reject });
        pump();
      });
    },
  };
}

function columnsOf(tasks: PreparedTask[]): unknown[] {
  const column = <K extends keyof PreparedTask>(key: K) => tasks.map((t) => t[key]);
  return [
    column("id"),
    column("accountId"),
    column("apiKeyId"),
    column("model"),
    column("provider"),
    tasks.map((t) => JSON.stringify(t.input)),
    column("price"),
    column("callbackUrl"),
    column("deadlineAt"),
    column("ledgerId"),
    column("createdAt"),
  ];
}
