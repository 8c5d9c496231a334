import { sql } from "drizzle-orm";
import {
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { attemptStateEnum, failureKindEnum } from "./enums";
import { tasks } from "./tasks";

/** What the upstream reported for an attempt, kept even when it no longer decides the task. */
export interface AttemptResult {
  status: "succeeded" | "failed";
  urls?: string[];
  errorCode?: string;
  errorMessage?: string;
}

/**
 * One row per upstream submission, written before the call, so a re-run after a crash finds it
 * and recovers it instead of paying for a second generation.
 */
export const taskAttempts = pgTable(
  "task_attempts",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id")
      .notNull()
      .references(() => tasks.id),
    /** 1, 2, …: the task's `attempts` counter when this attempt was opened. */
    number: integer("number").notNull(),
    /** The provider instance (configured id) it went to. */
    provider: text("provider").notNull(),
    upstreamModel: text("upstream_model").notNull(),
    providerTaskId: text("provider_task_id"),
    state: attemptStateEnum("state").notNull().default("sending"),
    /** The credential in this attempt's callback URL. */
    callbackToken: text("callback_token").notNull(),
    /** What the upstream charges for it, in its own credits (0 once it refunds a failure). */
    upstreamCost: integer("upstream_cost"),
    /**
     * The same in millionths of a dollar, by the provider's credit value when the attempt was
     * opened: costs in different providers' credits add up, and margins can be reported.
     */
    upstreamCostMicros: integer("upstream_cost_micros"),
    failureKind: failureKindEnum("failure_kind"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /**
     * The upstream's status for a refused submission (a body code for dialects that answer
     * errors as HTTP 200). 409 and 429 mean busy: such attempts do not use up the task's budget.
     */
    upstreamStatus: integer("upstream_status"),
    /** Consecutive polls that found the upstream task missing. */
    notFoundCount: integer("not_found_count").notNull().default(0),
    result: jsonb("result").$type<AttemptResult>(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    resultAt: timestamp("result_at", { withTimezone: true }),
  },
  (t) => [
    unique("task_attempts_task_number_unique").on(t.taskId, t.number),
    uniqueIndex("task_attempts_provider_task_idx")
      .on(t.provider, t.providerTaskId)
      .where(sql`${t.providerTaskId} is not null`),
    // An ending's "abandon the task's open attempts" finds none without reading its closed ones.
    index("task_attempts_task_open_idx")
      .on(t.taskId)
      .where(sql`${t.state} in ('sending', 'accepted', 'unknown')`),
    index("task_attempts_open_idx")
      .on(t.startedAt)
      .where(sql`${t.state} in ('sending', 'accepted', 'unknown')`),
  ],
);

export type TaskAttempt = typeof taskAttempts.$inferSelect;
