import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { accounts } from "./accounts";

/**
 * The secrets an account's client webhooks are signed with (Standard Webhooks, `whsec_…`). The
 * current one has no `expires_at`; a rotation gives the previous one an expiry, and until then
 * both sign, so a client can switch without missing a delivery.
 */
export const webhookSecrets = pgTable(
  "webhook_secrets",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    secret: text("secret").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
  },
  (t) => [index("webhook_secrets_account_idx").on(t.accountId, t.createdAt)],
);

export type WebhookSecret = typeof webhookSecrets.$inferSelect;
