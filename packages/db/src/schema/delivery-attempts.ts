import { bigserial, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { deliveries } from "./deliveries";

/** One try of a delivery: when, the answer's status, how long it took, an excerpt of it. */
export const deliveryAttempts = pgTable(
  "delivery_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id),
    /** 1, 2, … across redeliveries. */
    number: integer("number").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    /** The HTTP status, or null when no answer came (refused, timed out, blocked address). */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    /** The first bytes of the answer's body (at most 1 KB). */
    excerpt: text("excerpt"),
  },
  (t) => [index("delivery_attempts_delivery_idx").on(t.deliveryId, t.number)],
);

export type DeliveryAttempt = typeof deliveryAttempts.$inferSelect;
