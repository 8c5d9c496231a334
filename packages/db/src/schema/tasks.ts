import { sql } from "drizzle-orm";
import { index, integer, json, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { apiKeys } from "./api-keys";
import { batches } from "./batches";
import { timestamps } from "./columns";
import type { DoorName } from "./constants";
import { taskStatusEnum } from "./enums";

export interface TaskOutput {
  urls: string[];
  metadata: Record<string, unknown>;
}

/**
 * Also the outbox: an active row whose `next_wake_at` has passed without its job running again
 * is re-enqueued by the sweep.
 */
/** A task's current wait for a provider, as its history and its view show it. */
export interface WaitingFor {
  reason:
    | "rate_limit"
    | "concurrency_limit"
    | "retry_after"
    | "circuit_open"
    | "retry_backoff"
    | "callback";
  provider: string;
  /** ISO time the worker next tries. */
  until: string;
}

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
    /** Which provider the current attempt went to; null until the first is opened. */
    provider: text("provider"),
    /** The upstream id of the current attempt. */
    providerTaskId: text("provider_task_id"),
    /** Upstream attempts opened so far; the current attempt has this number. */
    attempts: integer("attempts").notNull().default(0),
    /** The front door the task came through: its price list, its read shape, its callback's. */
    door: text("door").$type<DoorName>().notNull().default("native"),
    /**
     * The create request as the door received it, when the door echoes it back (kie and revid's
     * `param`, the model name the client used); null for native creates. `json`, not `jsonb`: the
     * echo keeps the request's key order.
     */
    doorRequest: json("door_request").$type<Record<string, unknown>>(),
    /** Credits charged to the account. */
    price: integer("price").notNull(),
    output: jsonb("output").$type<TaskOutput>(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    callbackUrl: text("callback_url"),
    /** The batch this task is an item of, if any. */
    batchId: text("batch_id").references(() => batches.id),
    deadlineAt: timestamp("deadline_at", { withTimezone: true }).notNull(),
    /** When the task's job is next expected to run; null once the task has ended. */
    nextWakeAt: timestamp("next_wake_at", { withTimezone: true }),
    /**
     * Why the task is waiting to be submitted, when it is (a provider's rate limit, its slots, its
     * Retry-After, its open circuit, a retry's backoff): null once an attempt opens.
     */
    waitingFor: jsonb("waiting_for").$type<WaitingFor>(),
    submittedAt: timestamp("submitted_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("tasks_account_created_idx").on(t.accountId, t.createdAt),
    index("tasks_batch_idx").on(t.batchId, t.id).where(sql`${t.batchId} is not null`),
    // A batch's items still active: "is the batch done" after each ending, without walking the
    // ended ones (most of a large batch, near its end).
    index("tasks_batch_active_idx")
      .on(t.batchId, t.id)
      .where(sql`${t.batchId} is not null and ${t.status} in ('queued', 'submitting', 'running')`),
    index("tasks_wake_idx")
      .on(t.nextWakeAt)
      .where(sql`${t.status} in ('queued', 'submitting', 'running')`),
    index("tasks_deadline_idx")
      .on(t.deadlineAt)
      .where(sql`${t.status} in ('queued', 'submitting', 'running')`),
  ],
);

export type Task = typeof tasks.$inferSelect;
