import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Each status poll sent to a provider whose requests Ripen counts against a limit: with the
 * attempts' submits, what Redis's request window held, put back when Redis restarts empty. Kept
 * an hour (the worker's sweep removes older ones); at most a provider's limit a minute.
 */
export const providerPolls = pgTable("provider_polls", {
  /** Time-sortable (`newId("poll")`): recent rows are found by a range of it. */
  id: text("id").primaryKey(),
  provider: text("provider").notNull(),
  /** Not a foreign key: a record of a request sent, kept whatever becomes of the task. */
  taskId: text("task_id").notNull(),
  sentAt: timestamp("sent_at", { withTimezone: true }).notNull().defaultNow(),
});

export type ProviderPoll = typeof providerPolls.$inferSelect;
