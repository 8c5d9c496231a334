import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { ledgerEntryKindEnum } from "./enums";
import { tasks } from "./tasks";

/**
 * Two-phase credit movements. `idempotencyKey` is unique: a hold is `hold:{taskId}` and its single
 * resolution (capture or release) is `resolve:{taskId}`, so a hold can never resolve twice.
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    taskId: text("task_id").references(() => tasks.id),
    kind: ledgerEntryKindEnum("kind").notNull(),
    amount: bigint("amount", { mode: "number" }).notNull(),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    memo: text("memo"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("ledger_entries_account_idx").on(t.accountId, t.createdAt)],
);

export type LedgerEntry = typeof ledgerEntries.$inferSelect;
