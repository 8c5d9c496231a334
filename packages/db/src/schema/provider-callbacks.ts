import {
  bigserial,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { callbackOutcomeEnum } from "./enums";

/** Bytes as received: a callback body may hold anything, NUL bytes included. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/** Every callback as received, kept for audit whatever became of it. */
export const providerCallbacks = pgTable(
  "provider_callbacks",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    provider: text("provider").notNull(),
    /** Not a foreign key: a callback for a task we never had is still worth keeping. */
    taskId: text("task_id").notNull(),
    /** The attempt whose callback URL was called. */
    attemptNumber: integer("attempt_number"),
    body: bytea("body").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    outcome: callbackOutcomeEnum("outcome").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("provider_callbacks_task_idx").on(t.taskId)],
);

export type ProviderCallback = typeof providerCallbacks.$inferSelect;
