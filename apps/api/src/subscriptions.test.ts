import {
  cancelSubscription,
  createAccountByOperator,
  createPlan,
  getCredits,
  grantDueSubscriptionMonths,
  startSubscription,
} from "@ripen/core";
import { createQueue, queueNames } from "@ripen/queue";
import { startTestStack, type TestStack } from "@ripen/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Subscriptions grant their plan's credits once per month: the first at the start, each later one
// by the worker's scan, whenever and however often it runs. The months here lie in 2100: the test
// stack's worker also scans, by the real clock, and must find none of them due.

const MONTHLY = 100;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  await createPlan(stack.db.db, { name: "monthly", monthlyCredits: MONTHLY });
});
afterAll(() => stack?.close());

/** The 15th of month `k` after January 2100, UTC: every month has one, so no day is clamped. */
const monthStart = (k: number) => new Date(Date.UTC(2100, k, 15));
const DAY = 86_400_000;

async function subscribedAccount(months: number) {
  const { accountId } = await createAccountByOperator(stack.db.db, { name: "subscriber" });
  const subscription = await startSubscription(stack.db.db, {
    accountId,
    plan: "monthly",
    months,
    now: monthStart(0),
  });
  return { accountId, subscription };
}

const balance = async (accountId: string) => (await getCredits(stack.db.db, accountId)).balance;

describe("monthly grants", () => {
  it("grants the first month at the start and each later month once, when it begins", async () => {
    const { accountId, subscription } = await subscribedAccount(3);
    expect(subscription.endsAt).toEqual(monthStart(3));
    expect(await balance(accountId)).toBe(MONTHLY);

    await grantDueSubscriptionMonths(stack.db.db, new Date(monthStart(1).getTime() - 1));
    expect(await balance(accountId)).toBe(MONTHLY);
    await grantDueSubscriptionMonths(stack.db.db, monthStart(1));
    expect(await balance(accountId)).toBe(2 * MONTHLY);
    // Two scans at once (two workers) grant nothing twice.
    await Promise.all([
      grantDueSubscriptionMonths(stack.db.db, monthStart(2)),
      grantDueSubscriptionMonths(stack.db.db, monthStart(2)),
    ]);
    expect(await balance(accountId)).toBe(3 * MONTHLY);
    // The end is not a month's beginning: nothing more, however late the scan.
    await grantDueSubscriptionMonths(stack.db.db, monthStart(9));
    expect(await balance(accountId)).toBe(3 * MONTHLY);

    const memos = await stack.db.pool.query(
      "select memo from ledger_entries where account_id = $1 order by created_at, id",
      [accountId],
    );
    expect(memos.rows.map((r) => r.memo)).toEqual([
      "plan monthly: month 1",
      "plan monthly: month 2",
      "plan monthly: month 3",
    ]);
  });

  it("a canceled subscription gets no month that begins after the cancel", async () => {
    const { accountId, subscription } = await subscribedAccount(12);
    await cancelSubscription(stack.db.db, {
      accountId,
      subscriptionId: subscription.id,
      now: new Date(monthStart(1).getTime() + DAY),
    });
    await grantDueSubscriptionMonths(stack.db.db, monthStart(6));
    expect(await balance(accountId)).toBe(2 * MONTHLY);
  });

  it("whatever the scans' times, each month begun before the end is granted exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 14 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 6 }),
        async (months, scanDays) => {
          const { accountId } = await subscribedAccount(months);
          for (const day of [...scanDays].sort((a, b) => a - b)) {
            await grantDueSubscriptionMonths(
              stack.db.db,
              new Date(monthStart(0).getTime() + day * DAY),
            );
          }
          const last = monthStart(0).getTime() + Math.max(...scanDays) * DAY;
          let expected = 0;
          for (let k = 0; k < months; k++) if (monthStart(k).getTime() <= last) expected += 1;
          expect(await balance(accountId)).toBe(expected * MONTHLY);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("the worker schedules the scan (a BullMQ job scheduler)", async () => {
    const maintenance = createQueue(
      { connection: stack.producerRedis, prefix: stack.prefix },
      queueNames.maintenance,
    );
    try {
      const scheduler = await maintenance.getJobScheduler("subscription-grants");
      expect(scheduler).toMatchObject({ name: "maintenance.subscription-grants" });
    } finally {
      await maintenance.close();
    }
  });
});
