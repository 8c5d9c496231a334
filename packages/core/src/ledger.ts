import { accounts, type Executor, ledgerEntries, pgClientOf, withTransaction } from "@ripen/db";
import { and, eq, sql } from "drizzle-orm";
import { AccountNotFound, InsufficientCredits, InvalidRequest } from "./errors";
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
  args: { accountId: string; amount: number; idempotencyKey?: string; memo?: string },
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
 * `HOLD_ROWS_SQL`, then the holds added to their accounts (CTE `held`: `id`, `available`).
 * Accounts are locked in id order, so statements running at once (in one process or several)
 * cannot deadlock. An account short of credit fails the CHECK `accounts_available_nonnegative`,
 * and the whole statement rolls back.
 */
export const HOLD_WRITES_SQL = `${HOLD_ROWS_SQL}, locked as (
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

/**
 * Adds a batch's total to its account's held credits, in one update, inside the transaction that
 * wrote the items' hold rows (`HOLD_ROWS_SQL`). An account that cannot afford it is
 * InsufficientCredits, and only this update is rolled back (a savepoint): the caller's
 * transaction then fails as a whole.
 */
export async function holdBatchTotal(
  tx: Executor,
  accountId: string,
  total: number,
): Promise<void> {
  const client = pgClientOf(tx);
  try {
    await client.query("savepoint ripen_batch_hold");
    await client.query(
      "update accounts set held = held + $2::bigint, updated_at = now() where id = $1 returning id",
      [accountId, total],
    );
  } catch (error) {
    if ((error as { constraint?: string }).constraint === "accounts_available_nonnegative") {
      await client.query("rollback to savepoint ripen_batch_hold");
      const after = await getCredits(tx, accountId);
      throw new InsufficientCredits(total, after.available);
    }
    throw error;
  }
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
  args: { taskIds: readonly string[]; kind: "capture" | "release" },
): Promise<number> {
  if (args.taskIds.length === 0) return 0;
  const result = await pgClientOf(db).query(RESOLVE_HOLDS_SQL, [
    args.taskIds,
    args.taskIds.map(() => newId("ledger")),
    args.kind,
    args.taskIds.map((id) => `hold:${id}`),
  ]);
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
 * `release`).
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
    returning account_id, amount
  ), sums as (
    select account_id, sum(amount) as amount, count(*) as resolved
    from resolution group by account_id
  ), locked as (
    select id from accounts where id in (select account_id from sums) order by id
    for no key update
  )
  update accounts a
  set balance = a.balance - (case when $3::text = 'capture' then sums.amount else 0 end),
      held = a.held - sums.amount,
      updated_at = now()
  from sums join locked on locked.id = sums.account_id
  where a.id = sums.account_id
  returning a.id, sums.resolved`;
