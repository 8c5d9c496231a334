import { type Executor, type Plan, plans, subscriptions, withTransaction } from "@ripen/db";
import { and, asc, desc, eq, gt, isNull, lte, sql } from "drizzle-orm";
import { AccountNotFound, Conflict, DomainError, InvalidRequest } from "./errors";
import { isIdOf, newId } from "./ids";
import { grantCredits } from "./ledger";

export class PlanNotFound extends DomainError {
  readonly code = "plan_not_found";
  constructor(readonly plan: string) {
    super(`Plan '${plan}' does not exist.`);
  }
}

export class PlanNameTaken extends Conflict {
  readonly code = "plan_name_taken";
  constructor(readonly planName: string) {
    super(`A plan named '${planName}' already exists.`);
  }
}

export class SubscriptionNotFound extends DomainError {
  readonly code = "subscription_not_found";
  constructor(readonly subscriptionId: string) {
    super(`Subscription '${subscriptionId}' does not exist on this account.`);
  }
}

/** One active subscription per account: a second one would grant two plans' credits. */
export class SubscriptionActive extends Conflict {
  readonly code = "subscription_active";
  constructor(readonly subscriptionId: string) {
    super(
      `This account already has an active subscription ('${subscriptionId}'); cancel it first.`,
    );
  }
}

export interface SubscriptionView {
  id: string;
  accountId: string;
  plan: string;
  planId: string;
  monthlyCredits: number;
  startsAt: Date;
  endsAt: Date;
  canceledAt: Date | null;
}

export async function createPlan(
  db: Executor,
  args: { name: string; monthlyCredits: number },
): Promise<Plan> {
  if (!Number.isSafeInteger(args.monthlyCredits) || args.monthlyCredits < 0) {
    throw new InvalidRequest("'monthly_credits' must be a whole number ≥ 0.", "monthly_credits");
  }
  const [plan] = await db
    .insert(plans)
    .values({ id: newId("plan"), name: args.name, monthlyCredits: args.monthlyCredits })
    .onConflictDoNothing({ target: plans.name })
    .returning();
  if (!plan) throw new PlanNameTaken(args.name);
  return plan;
}

export async function listPlans(db: Executor): Promise<Plan[]> {
  return db.select().from(plans).orderBy(asc(plans.name));
}

/** A plan by id (`plan_…`) or by name. */
export async function findPlan(db: Executor, idOrName: string): Promise<Plan> {
  const [plan] = await db
    .select()
    .from(plans)
    .where(isIdOf("plan", idOrName) ? eq(plans.id, idOrName) : eq(plans.name, idOrName));
  if (!plan) throw new PlanNotFound(idOrName);
  return plan;
}

const subscriptionColumns = {
  id: subscriptions.id,
  accountId: subscriptions.accountId,
  plan: plans.name,
  planId: plans.id,
  monthlyCredits: plans.monthlyCredits,
  startsAt: subscriptions.startsAt,
  endsAt: subscriptions.endsAt,
  canceledAt: subscriptions.canceledAt,
};

/** Active at `now`: started, not yet ended, not canceled. */
const activeAt = (now: Date) =>
  and(
    lte(subscriptions.startsAt, now),
    gt(subscriptions.endsAt, now),
    isNull(subscriptions.canceledAt),
  );

/** The account's subscription active at `now`, or null. */
export async function activeSubscription(
  db: Executor,
  accountId: string,
  now: Date,
): Promise<SubscriptionView | null> {
  const [row] = await db
    .select(subscriptionColumns)
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(and(eq(subscriptions.accountId, accountId), activeAt(now)))
    .orderBy(desc(subscriptions.endsAt))
    .limit(1);
  return row ?? null;
}

/** Every subscription the account ever had, newest first. */
export async function listSubscriptions(
  db: Executor,
  accountId: string,
): Promise<SubscriptionView[]> {
  return db
    .select(subscriptionColumns)
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(eq(subscriptions.accountId, accountId))
    .orderBy(desc(subscriptions.startsAt), desc(subscriptions.id));
}

/**
 * The ledger idempotency key of a subscription's month `month` (0 = the first): each month is
 * granted once, whoever grants it (the start, the worker's scan, a scan running twice).
 */
export const subscriptionMonthKey = (subscriptionId: string, month: number) =>
  `subscription:${subscriptionId}:${month}`;

const monthMemo = (plan: string, month: number) => `plan ${plan}: month ${month + 1}`;

/**
 * Starts a subscription now, until `endsAt` or for `months` calendar months, and grants the
 * plan's first month with it (same transaction). Later months are granted by
 * `grantDueSubscriptionMonths`. One active subscription per account.
 */
export async function startSubscription(
  db: Executor,
  args: {
    accountId: string;
    plan: string;
    now: Date;
    endsAt?: Date;
    months?: number;
    actor?: string;
  },
): Promise<SubscriptionView> {
  if ((args.endsAt === undefined) === (args.months === undefined)) {
    throw new InvalidRequest("Give either 'ends_at' or 'months'.", "ends_at");
  }
  if (args.endsAt !== undefined && args.endsAt.getTime() <= args.now.getTime()) {
    throw new InvalidRequest("'ends_at' must be in the future.", "ends_at");
  }
  if (args.months !== undefined && !(Number.isInteger(args.months) && args.months >= 1)) {
    throw new InvalidRequest("'months' must be a whole number ≥ 1.", "months");
  }
  return withTransaction(db, async (tx) => {
    const plan = await findPlan(tx, args.plan);
    // Locks the account: two starts at once cannot both find no active subscription.
    const locked = await tx.execute(
      sql`select id from accounts where id = ${args.accountId} for update`,
    );
    if (locked.rows.length === 0) throw new AccountNotFound(args.accountId);
    const current = await activeSubscription(tx, args.accountId, args.now);
    if (current) throw new SubscriptionActive(current.id);
    const id = newId("subscription");
    // Calendar months in Postgres, as the scan counts them (Jan 31 + 1 month = Feb 28/29).
    const endsAt =
      args.endsAt ?? sql`${args.now}::timestamptz + make_interval(months => ${args.months})`;
    const [row] = await tx
      .insert(subscriptions)
      .values({ id, accountId: args.accountId, planId: plan.id, startsAt: args.now, endsAt })
      .returning();
    if (plan.monthlyCredits > 0) {
      await grantCredits(tx, {
        accountId: args.accountId,
        amount: plan.monthlyCredits,
        idempotencyKey: subscriptionMonthKey(id, 0),
        memo: monthMemo(plan.name, 0),
        actor: args.actor,
      });
    }
    return {
      id,
      accountId: args.accountId,
      plan: plan.name,
      planId: plan.id,
      monthlyCredits: plan.monthlyCredits,
      startsAt: row!.startsAt,
      endsAt: row!.endsAt,
      canceledAt: null,
    };
  });
}

/**
 * Cancels a subscription at once: models that need one refuse from now, no further month is
 * granted, and the credits already granted stay. Canceling a canceled one changes nothing.
 */
export async function cancelSubscription(
  db: Executor,
  args: { accountId: string; subscriptionId: string; now: Date },
): Promise<SubscriptionView> {
  if (!isIdOf("subscription", args.subscriptionId)) {
    throw new SubscriptionNotFound(args.subscriptionId);
  }
  const mine = and(
    eq(subscriptions.id, args.subscriptionId),
    eq(subscriptions.accountId, args.accountId),
  );
  await db
    .update(subscriptions)
    .set({ canceledAt: args.now, updatedAt: args.now })
    .where(and(mine, isNull(subscriptions.canceledAt)));
  const [row] = await db
    .select(subscriptionColumns)
    .from(subscriptions)
    .innerJoin(plans, eq(plans.id, subscriptions.planId))
    .where(mine);
  if (!row) throw new SubscriptionNotFound(args.subscriptionId);
  return row;
}

/**
 * Grants every subscription each month that has begun by `now` and not yet been granted (month k
 * begins k calendar months after the start, before the end and before any cancel). Idempotent
 * (`subscriptionMonthKey`): the worker runs it on a schedule, and running it twice, or in two
 * workers at once, grants nothing twice. Returns how many months it granted.
 */
export async function grantDueSubscriptionMonths(db: Executor, now: Date): Promise<number> {
  const due = await db.execute<{
    subscription_id: string;
    account_id: string;
    plan: string;
    amount: string;
    month: number;
  }>(sql`
    with bounded as (
      select s.*, least(${now}::timestamptz, s.ends_at, coalesce(s.canceled_at, s.ends_at)) as until
      from subscriptions s
      where s.starts_at <= ${now}::timestamptz
    )
    select b.id as subscription_id, b.account_id, p.name as plan, p.monthly_credits as amount,
      m.month
    from bounded b
    join plans p on p.id = b.plan_id
    cross join lateral generate_series(
      1,
      (extract(year from age(b.until, b.starts_at)) * 12 + extract(month from age(b.until, b.starts_at)))::int
    ) as m(month)
    where p.monthly_credits > 0
      and b.starts_at + make_interval(months => m.month) <= b.until
      and b.starts_at + make_interval(months => m.month) < b.ends_at
      and (b.canceled_at is null or b.starts_at + make_interval(months => m.month) < b.canceled_at)
      and not exists (
        select 1 from ledger_entries l
        where l.idempotency_key = 'subscription:' || b.id || ':' || m.month
      )
    order by b.starts_at, m.month`);
  let granted = 0;
  for (const row of due.rows) {
    const done = await grantCredits(db, {
      accountId: row.account_id,
      amount: Number(row.amount),
      idempotencyKey: subscriptionMonthKey(row.subscription_id, row.month),
      memo: monthMemo(row.plan, row.month),
    });
    if (done) granted += 1;
  }
  return granted;
}
