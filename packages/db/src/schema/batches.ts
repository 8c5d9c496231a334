import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { apiKeys } from "./api-keys";
import { timestamps } from "./columns";
import { batchStateEnum } from "./enums";

/**
 * Many creates accepted together. Its items are ordinary tasks (`tasks.batch_id`), each with its
 * own hold, settled one by one; the batch's counts and credits are read from them.
 */
export const batches = pgTable(
  "batches",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    apiKeyId: text("api_key_id").references(() => apiKeys.id),
    /** `running` until every item has ended, then `ended`; `canceled` once canceled. */
    state: batchStateEnum("state").notNull().default("running"),
    /** Items accepted. */
    total: integer("total").notNull(),
    /** What the batch ends with: a signed callback, as for tasks. */
    callbackUrl: text("callback_url"),
    /** The schedule run that created it, if one did. */
    scheduleRunId: text("schedule_run_id"),
    endedAt: timestamp("ended_at", { withTimezone: true }),
    /**
     * When its last item is projected to have started, under the providers' limits and what was
     * already waiting for them, at creation (admission control); null when no projection was made.
     */
    estimatedEndAt: timestamp("estimated_end_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("batches_account_created_idx").on(t.accountId, t.createdAt),
    index("batches_running_idx").on(t.createdAt).where(sql`${t.state} = 'running'`),
  ],
);

export type Batch = typeof batches.$inferSelect;
