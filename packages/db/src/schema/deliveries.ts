import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { timestamps } from "./columns";
import { deliveryStateEnum } from "./enums";
import { tasks } from "./tasks";

/**
 * A client webhook to send (the outbox): written in the transaction that ends the task, sent by
 * a worker job. `id` is the Standard Webhooks `webhook-id`, the same on every try; `body` is the
 * exact JSON sent, so every try and every redelivery sends (and signs) the same bytes.
 */
export const deliveries = pgTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    taskId: text("task_id").references(() => tasks.id),
    /** For a batch's callback (`batch.completed`), the batch; `task_id` is then null. */
    batchId: text("batch_id"),
    /** `task.completed` or `task.failed` (the dialect's `X-Event`). */
    event: text("event").notNull(),
    url: text("url").notNull(),
    body: text("body").notNull(),
    state: deliveryStateEnum("state").notNull().default("pending"),
    /** Tries of the current round (a redelivery starts a new round at 0); the log numbers them all. */
    tries: integer("tries").notNull().default(0),
    /** When the next try is due while pending; the sweep re-adds the job of an overdue one. */
    nextTryAt: timestamp("next_try_at", { withTimezone: true }),
    lastStatus: integer("last_status"),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("deliveries_task_idx").on(t.taskId, t.createdAt),
    index("deliveries_due_idx").on(t.nextTryAt).where(sql`${t.state} = 'pending'`),
  ],
);

export type Delivery = typeof deliveries.$inferSelect;
