import { index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { scheduleRunStateEnum } from "./enums";
import { schedules } from "./schedules";

/**
 * One firing of a schedule. `run_key` (schedule id and the fire time it is for) is unique, so
 * however many workers see the same firing, one run starts. A run that could not create its
 * batch (not affordable, invalid template) is recorded `failed` with why.
 */
export const scheduleRuns = pgTable(
  "schedule_runs",
  {
    id: text("id").primaryKey(),
    scheduleId: text("schedule_id")
      .notNull()
      .references(() => schedules.id),
    runKey: text("run_key").notNull(),
    /** The fire time this run is for (not when it ran). */
    scheduledFor: timestamp("scheduled_for", { withTimezone: true }).notNull(),
    state: scheduleRunStateEnum("state").notNull(),
    batchId: text("batch_id"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("schedule_runs_run_key_unique").on(t.runKey),
    index("schedule_runs_schedule_idx").on(t.scheduleId, t.scheduledFor),
  ],
);

export type ScheduleRun = typeof scheduleRuns.$inferSelect;
