import { accounts, type Executor, ledgerEntries, withTransaction } from "@ripen/db";
import { eq, sql } from "drizzle-orm";
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
 * Holds `amount` for a task. The availability check is the UPDATE's own WHERE clause, so
 * concurrent holds serialize on the account row and can never overdraw it.
 */
export async function holdCredits(
  db: Executor,
  args: { accountId: string; taskId: string; amount: number },
): Promise<void> {
  await withTransaction(db, async (tx) => {
    const held = await tx
      .update(accounts)
      .set({ held: sql`${accounts.held} + ${args.amount}`, updatedAt: sql`now()` })
      .where(
        sql`${accounts.id} = ${args.accountId} and ${accounts.balance} - ${accounts.held} >= ${args.amount}`,
      )
      .returning({ id: accounts.id });
    if (held.length === 0) {
      const credits = await getCredits(tx, args.accountId);
      throw new InsufficientCredits(args.amount, credits.available);
    }
    await tx.insert(ledgerEntries).values({
      id: newId("ledger"),
      accountId: args.accountId,
      taskId: args.taskId,
      kind: "hold",
      amount: args.amount,
      idempotencyKey: `hold:${args.taskId}`,
    });
  });
}

/**
 * Resolves a task's hold exactly once: capture posts it against the balance, release voids it.
 * Returns false when the hold was already resolved.
 */
export async function resolveHold(
  db: Executor,
  args: { accountId: string; taskId: string; amount: number; kind: "capture" | "release" },
): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const inserted = await tx
      .insert(ledgerEntries)
      .values({
        id: newId("ledger"),
        accountId: args.accountId,
        taskId: args.taskId,
        kind: args.kind,
        amount: args.amount,
        idempotencyKey: `resolve:${args.taskId}`,
      })
      .onConflictDoNothing({ target: ledgerEntries.idempotencyKey })
      .returning({ id: ledgerEntries.id });
    if (inserted.length === 0) return false;
    const balanceChange = args.kind === "capture" ? args.amount : 0;
    await tx
      .update(accounts)
      .set({
        balance: sql`${accounts.balance} - ${balanceChange}`,
        held: sql`${accounts.held} - ${args.amount}`,
        updatedAt: sql`now()`,
      })
      .where(eq(accounts.id, args.accountId));
    return true;
  });
}
