import { sql } from "drizzle-orm";
import { bigint, boolean, check, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";

/**
 * balance = grants − captures ± adjustments; held = sum of open holds. Both are maintained by the ledger
 * operations in the same transaction as the ledger row, and the CHECK makes an overdraft
 * impossible even for a buggy caller.
 */
export const accounts = pgTable(
  "accounts",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    balance: bigint("balance", { mode: "number" }).notNull().default(0),
    held: bigint("held", { mode: "number" }).notNull().default(0),
    /** A disabled account's keys authenticate to nothing (403) until it is enabled again. */
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    /** nanobanana's `is_vip`, set by an operator. */
    isVip: boolean("is_vip").notNull().default(false),
    /**
     * Interactive tasks (not batch items) not yet ended, kept with `held` by the same statements,
     * so the limit below holds under any number of concurrent creates.
     */
    activeTasks: integer("active_tasks").notNull().default(0),
    /** At most this many interactive tasks at once; null: no limit. */
    maxActiveTasks: integer("max_active_tasks"),
    ...timestamps,
  },
  (t) => [
    check("accounts_active_tasks_nonnegative", sql`${t.activeTasks} >= 0`),
    check(
      "accounts_active_tasks_within_limit",
      sql`${t.maxActiveTasks} is null or ${t.activeTasks} <= ${t.maxActiveTasks}`,
    ),
    check("accounts_held_nonnegative", sql`${t.held} >= 0`),
    check("accounts_available_nonnegative", sql`${t.balance} - ${t.held} >= 0`),
  ],
);

export type Account = typeof accounts.$inferSelect;
