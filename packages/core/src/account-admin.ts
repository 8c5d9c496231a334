import { accounts, apiKeys, type Executor, withTransaction } from "@ripen/db";
import { and, count, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { forgetCachedApiKeys } from "./api-keys";
import { AccountNotFound, InvalidRequest } from "./errors";
import { isIdOf, newId } from "./ids";
import { getCreditsGranted, grantCredits } from "./ledger";
import { activeSubscription, type SubscriptionView } from "./plans";

/** An account as the operator sees it. */
export interface AccountView {
  id: string;
  name: string;
  balance: number;
  held: number;
  available: number;
  /** Every credit ever granted (grants only; adjustments are corrections, not grants). */
  totalGranted: number;
  activeTasks: number;
  maxActiveTasks: number | null;
  isVip: boolean;
  disabledAt: Date | null;
  subscription: SubscriptionView | null;
  /** Keys not revoked. */
  keys: number;
  createdAt: Date;
}

/** An account in a list: what the operator scans for (no joins per row). */
export interface AccountSummary {
  id: string;
  name: string;
  balance: number;
  held: number;
  available: number;
  isVip: boolean;
  disabledAt: Date | null;
  createdAt: Date;
}

const summaryColumns = {
  id: accounts.id,
  name: accounts.name,
  balance: accounts.balance,
  held: accounts.held,
  isVip: accounts.isVip,
  disabledAt: accounts.disabledAt,
  createdAt: accounts.createdAt,
};

const withAvailable = <T extends { balance: number; held: number }>(row: T) => ({
  ...row,
  available: row.balance - row.held,
});

function checkMaxActiveTasks(value: number | null | undefined): void {
  if (value === undefined || value === null) return;
  if (!(Number.isInteger(value) && value >= 1 && value <= 1_000_000)) {
    throw new InvalidRequest(
      "'max_active_tasks' must be a whole number from 1 to 1000000, or null.",
      "max_active_tasks",
    );
  }
}

/**
 * Creates an account without keys (the operator makes them apart), with an optional first grant
 * recorded with its actor.
 */
export async function createAccountByOperator(
  db: Executor,
  args: {
    name: string;
    credits?: number;
    maxActiveTasks?: number | null;
    isVip?: boolean;
    actor?: string;
  },
): Promise<{ accountId: string }> {
  checkMaxActiveTasks(args.maxActiveTasks);
  return withTransaction(db, async (tx) => {
    const accountId = newId("account");
    await tx.insert(accounts).values({
      id: accountId,
      name: args.name,
      isVip: args.isVip ?? false,
      maxActiveTasks: args.maxActiveTasks ?? null,
    });
    if (args.credits) {
      await grantCredits(tx, {
        accountId,
        amount: args.credits,
        memo: "initial grant",
        actor: args.actor,
      });
    }
    return { accountId };
  });
}

export async function getAccountView(
  db: Executor,
  accountId: string,
  now: Date,
): Promise<AccountView> {
  if (!isIdOf("account", accountId)) throw new AccountNotFound(accountId);
  const [row] = await db
    .select({
      ...summaryColumns,
      activeTasks: accounts.activeTasks,
      maxActiveTasks: accounts.maxActiveTasks,
    })
    .from(accounts)
    .where(eq(accounts.id, accountId));
  if (!row) throw new AccountNotFound(accountId);
  const [subscription, totalGranted, [keys]] = await Promise.all([
    activeSubscription(db, accountId, now),
    getCreditsGranted(db, accountId),
    db
      .select({ n: count() })
      .from(apiKeys)
      .where(and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt))),
  ]);
  return { ...withAvailable(row), totalGranted, subscription, keys: keys?.n ?? 0 };
}

/** Accounts newest first (ids are time-sortable), `limit` after the id `after`. */
export async function listAccounts(
  db: Executor,
  args: { limit: number; after?: string },
): Promise<{ accounts: AccountSummary[]; next: string | null }> {
  const rows = await db
    .select(summaryColumns)
    .from(accounts)
    .where(args.after === undefined ? undefined : lt(accounts.id, args.after))
    .orderBy(desc(accounts.id))
    .limit(args.limit + 1);
  const page = rows.slice(0, args.limit);
  return {
    accounts: page.map(withAvailable),
    next: rows.length > args.limit ? page[page.length - 1]!.id : null,
  };
}

/**
 * Changes what an operator sets on an account. `disabled: true` stamps `disabled_at` (kept if
 * already disabled), false clears it; its keys are refused while it is set (`authenticateApiKey`),
 * here at once and in other API processes within API_KEY_CACHE_TTL_MS.
 */
export async function updateAccount(
  db: Executor,
  accountId: string,
  changes: {
    name?: string;
    isVip?: boolean;
    maxActiveTasks?: number | null;
    disabled?: boolean;
  },
  now: Date,
): Promise<void> {
  checkMaxActiveTasks(changes.maxActiveTasks);
  if (!isIdOf("account", accountId)) throw new AccountNotFound(accountId);
  const updated = await lowLimitRefused(() =>
    db
      .update(accounts)
      .set({
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.isVip === undefined ? {} : { isVip: changes.isVip }),
        ...(changes.maxActiveTasks === undefined ? {} : { maxActiveTasks: changes.maxActiveTasks }),
        ...(changes.disabled === undefined
          ? {}
          : {
              disabledAt: changes.disabled ? sql`coalesce(${accounts.disabledAt}, ${now})` : null,
            }),
        updatedAt: now,
      })
      .where(eq(accounts.id, accountId))
      .returning({ id: accounts.id }),
  );
  if (updated.length === 0) throw new AccountNotFound(accountId);
  // This process sees the change at once; others within the key cache's TTL (5 s).
  if (changes.disabled !== undefined) forgetCachedApiKeys(db, { accountId });
}

/** A limit below the tasks running now fails the accounts CHECK: a 400 saying so, not a 500. */
async function lowLimitRefused<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    // drizzle wraps the driver's error in `cause`.
    const driverError = ((error as { cause?: unknown }).cause ?? error) as { constraint?: string };
    if (driverError.constraint === "accounts_active_tasks_within_limit") {
      throw new InvalidRequest(
        "'max_active_tasks' cannot be below the account's tasks running now; wait for them to end or set a higher limit.",
        "max_active_tasks",
      );
    }
    throw error;
  }
}
