import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  foreignKey,
  index,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { ledgerEntryKindEnum } from "./enums";
import { tasks } from "./tasks";

/**
 * Two-phase credit movements. A capture or release names the hold it resolves (`hold_id`), and
 * the database itself enforces what that means: the composite foreign key makes it a hold of the
 * same account and the same amount, the unique index lets a hold resolve once, and the check
 * requires every resolution to name one. `idempotency_key` is unique too (`hold:{taskId}`,
 * `resolve:{taskId}`).
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
    holdId: text("hold_id").references((): AnyPgColumn => ledgerEntries.id),
    /** Always 'hold': lets the foreign key require that `hold_id` names a hold. */
    holdKind: ledgerEntryKindEnum("hold_kind")
      .notNull()
      .generatedAlwaysAs(sql`'hold'::ledger_entry_kind`),
    idempotencyKey: text("idempotency_key").notNull().unique(),
    /** Why: a grant's or an adjustment's reason. */
    memo: text("memo"),
    /** Who moved the credits by hand (an operator, an admin key); null for a task's own entries. */
    actor: text("actor"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_entries_account_idx").on(t.accountId, t.createdAt),
    // What an account was granted in all (nanobanana's `total_credits`), without reading its
    // holds and captures: grants are few, the rest grows with every task.
    index("ledger_entries_grants_idx").on(t.accountId, t.amount).where(sql`${t.kind} = 'grant'`),
    unique("ledger_entries_resolvable").on(t.id, t.accountId, t.amount, t.kind),
    foreignKey({
      name: "ledger_entries_resolves_hold",
      columns: [t.holdId, t.accountId, t.amount, t.holdKind],
      foreignColumns: [t.id, t.accountId, t.amount, t.kind],
    }),
    // Partial: holds and grants (no hold_id) cost this index nothing.
    uniqueIndex("ledger_entries_hold_resolved_once")
      .on(t.holdId)
      .where(sql`${t.holdId} is not null`),
    check(
      "ledger_entries_resolution_names_hold",
      sql`(${t.kind} in ('capture', 'release')) = (${t.holdId} is not null)`,
    ),
    // An adjustment is signed; every other entry's amount is positive. Compared as text: a
    // migration cannot use an enum value in the transaction that added it.
    check(
      "ledger_entries_amount_positive",
      sql`${t.amount} > 0 or (${t.kind}::text = 'adjustment' and ${t.amount} <> 0)`,
    ),
  ],
);

export type LedgerEntry = typeof ledgerEntries.$inferSelect;
