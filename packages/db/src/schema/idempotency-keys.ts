import { sql } from "drizzle-orm";
import { check, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { batches } from "./batches";
import { tasks } from "./tasks";

/**
 * An `Idempotency-Key` of a create, scoped to its account: the same key and body within 24 hours
 * answer the task (or the batch) the first request made; a different body is a conflict. One key
 * names one or the other, never both.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    key: text("key").notNull(),
    /** SHA-256 of the request (endpoint and body) the key was first used with. */
    requestHash: text("request_hash").notNull(),
    taskId: text("task_id").references(() => tasks.id),
    batchId: text("batch_id").references(() => batches.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.key] }),
    check("idempotency_keys_one_target", sql`num_nonnulls(${t.taskId}, ${t.batchId}) = 1`),
  ],
);

export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
