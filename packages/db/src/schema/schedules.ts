import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { apiKeys } from "./api-keys";
import { timestamps } from "./columns";
import { scheduleStateEnum } from "./enums";

/**
 * A recurring batch: a cron (with an optional seconds field) in a time zone, and the template of
 * the batch each run creates. Postgres holds it; BullMQ's job scheduler that fires it is rebuilt
 * from here whenever Redis has lost it.
 */
export const schedules = pgTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    apiKeyId: text("api_key_id").references(() => apiKeys.id),
    cron: text("cron").notNull(),
    timezone: text("timezone").notNull(),
    /** `{ requests: [...], callback_url?, partial? }`: the batch create body each run sends. */
    template: jsonb("template").$type<Record<string, unknown>>().notNull(),
    state: scheduleStateEnum("state").notNull().default("active"),
    /** The last fire time a run was started (or recorded failed) for: catch-up starts here. */
    lastRunFor: timestamp("last_run_for", { withTimezone: true }),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index("schedules_account_idx").on(t.accountId, t.createdAt)],
);

export type Schedule = typeof schedules.$inferSelect;
