import {
  accounts,
  type Executor,
  ledgerEntries,
  pgClientOf,
  type SpendPeriod,
  withTransaction,
} from "@ripen/db";
import { and, eq, sql } from "drizzle-orm";
import {
  AccountNotFound,
  Conflict,
  InsufficientCredits,
  InvalidRequest,
  SpendLimitExceeded,
} from "./errors";
import { newId } from "./ids";

export interface Credits {
  balance: number;
  held: number;
  available: number;
}

export async function getCredits(db: Executor, accountId: string): Promise<Credits> {
  const [row] = await db
    .select({ balance: accounts.balance, held: accounts.held })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  if (!row) throw new AccountNotFound(accountId);
  return { ...row, available: row.balance - row.held };
}

/** Credits held by tasks in flight over every account (the metrics' `ripen_credits_held`). */
export async function creditsHeldTotal(db: Executor): Promise<number> {
  const [row] = await db
    .select({ held: sql<string>`coalesce(sum(${accounts.held}), 0)` })
    .from(accounts);
  return Number(row?.held ?? 0);
}

/**
 * Every credit the account was ever granted (the sum of its grant entries): what it was given in
 * all, whatever it has spent since.
 */
export async function getCreditsGranted(db: Executor, accountId: string): Promise<number> {
  const [row] = await db
    .select({ granted: sql<string>`coalesce(sum(${ledgerEntries.amount}), 0)` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.accountId, accountId), eq(ledgerEntries.kind, "grant")));
  return Number(row?.granted ?? 0);
}

/**
 * Adds credits to an account. With an idempotency key, a repeated grant is a no-op that returns
 * false.
 */
export async function grantCredits(
  db: Executor,
  args: {
    accountId: string;
    amount: number;
    idempotencyKey?: string;
    memo?: string;
    /** Who granted it by hand (`admin-token`, an admin key's id); null for automatic grants. */
    actor?: string;
  },
): Promise<boolean> {
  if (!Number.isSafeInteger(args.amount) || args.amount <= 0) {
    throw new InvalidRequest("A grant must be a positive whole number of credits.");
  }
  return withTransaction(db, async (tx) => {
    // Lock the account first: a missing one is AccountNotFound, not a foreign-key failure.
    const [account] = await tx
      .select({ id: accounts.id })
      .from(accounts)
      .where(eq(accounts.id, args.accountId))
      .for("update");
    if (!account) throw new AccountNotFound(args.accountId);
    const id = newId("ledger");
    const inserted = await tx
      .insert(ledgerEntries)
      .values({
        id,
        accountId: args.accountId,
        kind: "grant",
        amount: args.amount,
        idempotencyKey: args.idempotencyKey ?? `grant:${id}`,
        memo: args.memo,
        actor: args.actor,
      })
      .onConflictDoNothing({ target: ledgerEntries.idempotencyKey })
      .returning({ id: ledgerEntries.id });
    if (inserted.length === 0) return false;
    await tx
      .update(accounts)
      .set({ balance: sql`${accounts.balance} + ${args.amount}`, updatedAt: sql`now()` })
      .where(eq(accounts.id, args.accountId));
    return true;
  });
}

/*
 * Every SQL statement that moves credits lives in this file: holds written with a create
 * (`HOLD_WRITES_SQL`, `holdBatchTotal`), their resolution when a task ends (`resolveHolds`), and
 * grants. Other modules compose these; none writes `ledger_entries` or `accounts.held` itself.
 */

/**
 * CTEs for a create statement: `hold` writes one pending ledger row per row of the CTE `input`
 * (columns `ledger_id`, `account_id`, `id`, `price`, `created_at`). Used by the batch create,
 * whose caller adds the total to the account in one update (`holdBatchTotal`).
 */
export const HOLD_ROWS_SQL = `
  hold as (
    insert into ledger_entries (id, account_id, task_id, kind, amount, idempotency_key, created_at)
    select ledger_id, account_id, id, 'hold', price, 'hold:' || id, created_at from input
    returning account_id, amount
  )`;

/**
 * The spend windows a hold taken at `createdAt` counts toward, for the `api_keys` row `key`: rows
 * `(period, window_start, cap)`, cap the key's current limit (null: none). Hours and days are
 * UTC, so every process and session agrees on them; 'total' is one window from a fixed start.
 */
const spendWindowsOf = (key: string, createdAt: string) => `(values
      ('hour', date_trunc('hour', ${createdAt}, 'UTC'), ${key}.spend_limit_hourly),
      ('day', date_trunc('day', ${createdAt}, 'UTC'), ${key}.spend_limit_daily),
      ('total', '1970-01-01T00:00:00Z'::timestamptz, ${key}.spend_limit_total)
    ) as w(period, window_start, cap)`;

/**
 * Adds the CTE `spend_input`'s amounts (`key_id`, `period`, `window_start`, `cap`, `amount`, one
 * row per window) to the keys' spend windows, with each key's current limit as the cap: the CHECK
 * `api_key_spend_within_cap` fails the statement when one would go past it. Every writer of a
 * key's windows holds its account's row first, so these rows never deadlock.
 */
const SPEND_UPSERT_SQL = `
    insert into api_key_spend (key_id, period, window_start, spent, cap)
    select key_id, period, window_start, amount, cap from spend_input
    order by key_id, period, window_start
    on conflict (key_id, period, window_start) do update
      set spent = api_key_spend.spent + excluded.spent, cap = excluded.cap`;

/**
 * `HOLD_ROWS_SQL` for interactive tasks (`input` also has `api_key_id`), then the holds added to
 * their accounts with the tasks to their active count (CTE `held`: `id`, `available`), then to
 * their keys' spend windows. Accounts are locked in id order, so statements running at once (in
 * one process or several) cannot deadlock. The whole statement rolls back on a CHECK: an account
 * short of credit (`accounts_available_nonnegative`) or at its active-task limit
 * (`accounts_active_tasks_within_limit`), a key past a spend limit (`api_key_spend_within_cap`).
 * A key without limits adds one index probe and writes nothing.
 */
export const HOLD_WRITES_SQL = `${HOLD_ROWS_SQL}, locked as (
    select id from accounts where id in (select account_id from input) order by id
    for no key update
  ), sums as (
    select account_id, sum(amount) as amount, count(*) as tasks from hold group by account_id
  ), held as (
    update accounts a set held = a.held + sums.amount, active_tasks = a.active_tasks + sums.tasks,
      updated_at = now()
    from sums join locked on locked.id = sums.account_id
    where a.id = sums.account_id
    returning a.id, a.balance - a.held as available
  ), spend_input as (
    -- Reads held: a key's windows are written only once its account is locked.
    select k.id as key_id, w.period, w.window_start, w.cap, sum(input.price) as amount
    from input join api_keys k on k.id = input.api_key_id
    cross join lateral ${spendWindowsOf("k", "input.created_at")}
    where w.cap is not null and input.account_id in (select id from held)
    group by 1, 2, 3, 4
  ), spend as (${SPEND_UPSERT_SQL}
  )`;

/**
 * Adds a batch's total to its account's held credits and to its key's spend windows, in one
 * statement, inside the transaction that wrote the items' hold rows (`HOLD_ROWS_SQL`). A batch's
 * items do not count as active tasks. An account that cannot afford it is InsufficientCredits, a
 * key past a spend limit SpendLimitExceeded, and only this statement is rolled back (a
 * savepoint): the caller's transaction then fails as a whole.
 */
export async function holdBatchTotal(
  tx: Executor,
  args: { accountId: string; apiKeyId: string | null; total: number; createdAt: Date },
): Promise<void> {
  const client = pgClientOf(tx);
  try {
    await client.query("savepoint ripen_batch_hold");
    await client.query(BATCH_HOLD_SQL, [args.accountId, args.total, args.apiKeyId, args.createdAt]);
  } catch (error) {
    const constraint = (error as { constraint?: string }).constraint;
    if (constraint === "accounts_available_nonnegative") {
      await client.query("rollback to savepoint ripen_batch_hold");
      const after = await getCredits(tx, args.accountId);
      throw new InsufficientCredits(args.total, after.available);
    }
    if (constraint === "api_key_spend_within_cap" && args.apiKeyId) {
      await client.query("rollback to savepoint ripen_batch_hold");
      throw await spendLimitRefusal(tx, {
        keyId: args.apiKeyId,
        amount: args.total,
        at: args.createdAt,
      });
    }
    throw error;
  }
}

/** Account $1 holds $2 more credits, counted toward key $3's windows at time $4. */
const BATCH_HOLD_SQL = `
  with held as (
    update accounts set held = held + $2::bigint, updated_at = now() where id = $1
    returning id
  ), spend_input as (
    -- Reads held: the key's windows are written only once its account is locked.
    select k.id as key_id, w.period, w.window_start, w.cap, $2::bigint as amount
    from api_keys k cross join lateral ${spendWindowsOf("k", "$4::timestamptz")}
    where k.id = $3::text and w.cap is not null and exists (select 1 from held)
  ), spend as (${SPEND_UPSERT_SQL}
  )
  select id from held`;

/** When the spend window of `period` containing `at` ends (UTC); undefined for 'total'. */
function spendWindowEnd(period: SpendPeriod, at: Date): Date | undefined {
  if (period === "total") return undefined;
  const length = period === "hour" ? 3_600_000 : 86_400_000;
  return new Date((Math.floor(at.getTime() / length) + 1) * length);
}

/** Longest wait first: a create refused by several windows can succeed only when all have room. */
const refusalOrder: readonly SpendPeriod[] = ["total", "day", "hour"];

/**
 * What a key's hold of `amount` at `at`, refused by the CHECK `api_key_spend_within_cap`, is
 * told: the limit it does not fit in, read after the refusal, and the seconds until that window
 * ends. If a release has made room since, the window with the least left is named.
 */
export async function spendLimitRefusal(
  db: Executor,
  args: { keyId: string; amount: number; at: Date },
): Promise<SpendLimitExceeded> {
  const { rows } = await pgClientOf(db).query<{ period: SpendPeriod; cap: string; left: string }>(
    `select w.period, w.cap, w.cap - coalesce(s.spent, 0) as left
     from api_keys k cross join lateral ${spendWindowsOf("k", "$2::timestamptz")}
     left join api_key_spend s on s.key_id = k.id and s.period = w.period
       and s.window_start = w.window_start
     where k.id = $1 and w.cap is not null`,
    [args.keyId, args.at],
  );
  const byPeriod = new Map(rows.map((row) => [row.period, row]));
  const full = refusalOrder.find((period) => {
    const row = byPeriod.get(period);
    return row !== undefined && Number(row.left) < args.amount;
  });
  const [leastLeft] = [...rows].sort((a, b) => Number(a.left) - Number(b.left));
  const refused = full ? byPeriod.get(full) : leastLeft;
  if (!refused) throw new Error(`API key ${args.keyId} has no spend limit to refuse a hold`);
  const end = spendWindowEnd(refused.period, args.at);
  const retryAfterSeconds =
    end === undefined
      ? undefined
      : Math.max(1, Math.ceil((end.getTime() - args.at.getTime()) / 1000));
  return new SpendLimitExceeded(refused.period, Number(refused.cap), retryAfterSeconds);
}

/**
 * Resolves tasks' holds, each exactly once, in one statement: each resolution is built from the
 * hold itself (its account, its amount), so nothing but a real, open hold can be captured or
 * released, and the schema refuses any other row. Capture posts the hold against the balance;
 * release voids it. Accounts are locked in id order (a group may span accounts). Returns the
 * tasks whose hold this call resolved (none when a task has no hold or it was already resolved).
 */
export async function resolveHolds(
  db: Executor,
  args: {
    taskIds: readonly string[];
    kind: "capture" | "release";
    /** Run as a named statement: only in a transaction that plans by indexes (`planByIndexes`). */
    named?: boolean;
  },
): Promise<number> {
  if (args.taskIds.length === 0) return 0;
  // Named only where the transaction plans by indexes, though planning it costs more than
  // running it for one task: a plan kept from while ledger_entries and tasks were small, once
  // analyzed, scanned both whole until the next ANALYZE (named-statements.test.ts).
  const result = await pgClientOf(db).query({
    name: args.named ? "ripen_resolve_holds" : undefined,
    text: RESOLVE_HOLDS_SQL,
    values: [
      args.taskIds,
      args.taskIds.map(() => newId("ledger")),
      args.kind,
      args.taskIds.map((id) => `hold:${id}`),
    ],
  });
  return result.rows.reduce((n, row) => n + Number(row.resolved), 0);
}

/** Resolves one task's hold (`resolveHolds`); false when it had none open. */
export async function resolveHold(
  db: Executor,
  args: { taskId: string; kind: "capture" | "release" },
): Promise<boolean> {
  return (await resolveHolds(db, { taskIds: [args.taskId], kind: args.kind })) > 0;
}

/**
 * Resolves the holds of the tasks $1 (resolution ids $2, hold keys $4) as $3 (`capture` or
 * `release`). Undoes what the create counted: the account's active tasks (interactive ones), and
 * on a release the key's spend in the windows of the task's creation (a capture keeps counting).
 */
const RESOLVE_HOLDS_SQL = `
  with input as (
    select * from unnest($1::text[], $2::text[]) as t(task_id, ledger_id)
  ), hold as (
    -- By the unique key's index (= any): a join on an expression would plan a scan of the
    -- whole ledger for one task.
    select l.id, l.account_id, l.amount, input.task_id, input.ledger_id
    from ledger_entries l join input on input.task_id = l.task_id
    where l.idempotency_key = any($4::text[]) and l.kind = 'hold'
  ), resolution as (
    insert into ledger_entries (id, account_id, task_id, kind, amount, hold_id, idempotency_key)
    select ledger_id, account_id, task_id, $3::ledger_entry_kind, amount, id, 'resolve:' || task_id
    from hold
    on conflict do nothing
    returning account_id, task_id, amount
  ), resolved as (
    select r.account_id, r.amount, t.api_key_id, t.created_at, t.batch_id is null as interactive
    from resolution r join tasks t on t.id = r.task_id
  ), sums as (
    select account_id, sum(amount) as amount, count(*) as resolved,
      count(*) filter (where interactive) as interactive
    from resolved group by account_id
  ), locked as (
    select id from accounts where id in (select account_id from sums) order by id
    for no key update
  ), settled as (
    update accounts a
    set balance = a.balance - (case when $3::text = 'capture' then sums.amount else 0 end),
        held = a.held - sums.amount,
        active_tasks = a.active_tasks - sums.interactive,
        updated_at = now()
    from sums join locked on locked.id = sums.account_id
    where a.id = sums.account_id
    returning a.id, sums.resolved
  ), released_spend as (
    -- Reads settled: a key's windows are written only once its account is locked.
    select k.id as key_id, w.period, w.window_start, sum(r.amount) as amount
    from resolved r join api_keys k on k.id = r.api_key_id
    cross join lateral ${spendWindowsOf("k", "r.created_at")}
    where $3::text = 'release' and r.account_id in (select id from settled)
    group by 1, 2, 3
  ), spend as (
    -- Never below 0, whatever a window's row missed (an ending must always commit); the ledger
    -- check reports such drift.
    update api_key_spend s set spent = greatest(s.spent - released_spend.amount, 0)
    from released_spend
    where s.key_id = released_spend.key_id and s.period = released_spend.period
      and s.window_start = released_spend.window_start
  )
  select id, resolved from settled`;

/** A negative adjustment larger than what the account has available (balance − held). */
export class AdjustmentExceedsAvailable extends Conflict {
  readonly code = "adjustment_exceeds_available";
  constructor(
    readonly amount: number,
    readonly available: number,
  ) {
    super(
      `An adjustment of ${amount} would take the account's available credits below 0 (${available} available; credits held for running tasks cannot be taken back).`,
    );
  }
}

/**
 * Corrects an account's balance by a signed, non-zero amount (an operator's adjustment, with its
 * reason and actor). A negative one may take back at most what is available: credits held for
 * running tasks are not the operator's to take. With an idempotency key, a repeat is a no-op that
 * returns false.
 */
export async function adjustCredits(
  db: Executor,
  args: {
    accountId: string;
    amount: number;
    reason: string;
    actor?: string;
    idempotencyKey?: string;
  },
): Promise<boolean> {
  if (!Number.isSafeInteger(args.amount) || args.amount === 0) {
    throw new InvalidRequest("An adjustment must be a non-zero whole number of credits.");
  }
  return withTransaction(db, async (tx) => {
    const [account] = await tx
      .select({ balance: accounts.balance, held: accounts.held })
      .from(accounts)
      .where(eq(accounts.id, args.accountId))
      .for("update");
    if (!account) throw new AccountNotFound(args.accountId);
    const id = newId("ledger");
    const inserted = await tx
      .insert(ledgerEntries)
      .values({
        id,
        accountId: args.accountId,
        kind: "adjustment",
        amount: args.amount,
        idempotencyKey: args.idempotencyKey ?? `adjustment:${id}`,
        memo: args.reason,
        actor: args.actor,
      })
      .onConflictDoNothing({ target: ledgerEntries.idempotencyKey })
      .returning({ id: ledgerEntries.id });
    if (inserted.length === 0) return false;
    // Checked under the row lock, before the CHECK accounts_available_nonnegative would refuse it
    // with a less helpful message.
    const available = account.balance - account.held;
    if (available + args.amount < 0) throw new AdjustmentExceedsAvailable(args.amount, available);
    await tx
      .update(accounts)
      .set({ balance: sql`${accounts.balance} + ${args.amount}`, updatedAt: sql`now()` })
      .where(eq(accounts.id, args.accountId));
    return true;
  });
}
