import { accounts, type Executor, ledgerEntries, withTransaction } from "@ripen/db";
import { and, eq, sql } from "drizzle-orm";
import { AccountNotFound, InvalidRequest } from "./errors";
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

/**
 * Resolves a task's hold exactly once, in one statement: the resolution is built from the hold
 * itself (its account, its amount), so nothing but a real, open hold can be captured or released,
 * and the schema refuses any other row. Capture posts the hold against the balance; release voids
 * it. Returns false when the task has no hold or it was already resolved.
 */
export async function resolveHold(
  db: Executor,
  args: { taskId: string; kind: "capture" | "release" },
): Promise<boolean> {
  const posted = args.kind === "capture";
  const result = await db.execute(sql`
    with hold as (
      select id, account_id, amount from ${ledgerEntries}
      where idempotency_key = ${`hold:${args.taskId}`} and kind = 'hold'
    ), resolution as (
      insert into ${ledgerEntries} (id, account_id, task_id, kind, amount, hold_id, idempotency_key)
      select ${newId("ledger")}, account_id, ${args.taskId}, ${args.kind}::ledger_entry_kind, amount, id,
        ${`resolve:${args.taskId}`}
      from hold
      on conflict do nothing
      returning account_id, amount
    )
    update ${accounts} a
    set balance = a.balance - (case when ${posted}::boolean then r.amount else 0 end),
        held = a.held - r.amount,
        updated_at = now()
    from resolution r where a.id = r.account_id
    returning a.id`);
  return result.rows.length > 0;
}
