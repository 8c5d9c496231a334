import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { apiKeys } from "./api-keys";
import { timestamps } from "./columns";
import { providerEnum, taskStatusEnum } from "./enums";

export interface TaskOutput {
  urls: string[];
  metadata: Record<string, unknown>;
}

/** Also the outbox: a row that is active without live work is re-enqueued by the sweep. */
export const tasks = pgTable(
  "tasks",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    apiKeyId: text("api_key_id").references(() => apiKeys.id),
    model: text("model").notNull(),
    input: jsonb("input").$type<Record<string, unknown>>().notNull(),
    status: taskStatusEnum("status").notNull().default("queued"),
    provider: providerEnum("provider").notNull(),
    providerTaskId: text("provider_task_id"),
    /** Submit attempts made to the upstream. */
    attempts: integer("attempts").notNull().default(0),
    /** Credits charged to the account. */
    price: integer("price").notNull(),
    /** What the upstream charges us, recorded apart from the price for margin reporting. */
    upstreamCost: integer("upstream_cost"),
    output: jsonb("output").$type<TaskOutput>(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    callbackUrl: text("callback_url"),
    deadlineAt: timestamp("deadline_at", { withTimezone: true }).notNull(),
    submittedAt: timestamp("submitted_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("tasks_account_created_idx").on(t.accountId, t.createdAt),
    index("tasks_active_idx")
      .on(t.status, t.updatedAt)
      .where(sql`${t.status} in ('queued', 'submitting', 'running')`),
    uniqueIndex("tasks_provider_task_idx").on(t.provider, t.providerTaskId),
  ],
);

export type Task = typeof tasks.$inferSelect;
