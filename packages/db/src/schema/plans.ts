import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { timestamps } from "./columns";

/** What an operator sells: credits granted each month of a subscription. */
export const plans = pgTable(
  "plans",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull().unique(),
    monthlyCredits: bigint("monthly_credits", { mode: "number" }).notNull(),
    ...timestamps,
  },
  (t) => [check("plans_monthly_credits_nonnegative", sql`${t.monthlyCredits} >= 0`)],
);

/**
 * An account on a plan from `starts_at` until `ends_at` (nanobanana's `subscription.end_date`),
 * unless canceled before. Models marked "Subscription: Required" need one active now.
 */
export const subscriptions = pgTable(
  "subscriptions",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull().defaultNow(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    canceledAt: timestamp("canceled_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("subscriptions_account_idx").on(t.accountId, t.endsAt),
    check("subscriptions_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

export type Plan = typeof plans.$inferSelect;
export type Subscription = typeof subscriptions.$inferSelect;
