import { sql } from "drizzle-orm";
import { bigint, check, pgTable, text } from "drizzle-orm/pg-core";
import { timestamps } from "./columns";

/**
 * balance = grants − captures; held = sum of open holds. Both are maintained by the ledger
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
    ...timestamps,
  },
  (t) => [
    check("accounts_held_nonnegative", sql`${t.held} >= 0`),
    check("accounts_available_nonnegative", sql`${t.balance} - ${t.held} >= 0`),
  ],
);

export type Account = typeof accounts.$inferSelect;
