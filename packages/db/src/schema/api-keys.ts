import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { accounts } from "./accounts";
import { timestamps } from "./columns";
import type { ApiKeyScope, SpendPeriod } from "./constants";

/** The plaintext key is shown once at creation; only its SHA-256 and a short prefix are kept. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull().unique(),
    scopes: text("scopes")
      .array()
      .$type<ApiKeyScope[]>()
      .notNull()
      .default(sql`'{read,write}'::text[]`),
    /** Refused from this time on (403); a rotated key's overlap ends here too. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    /** CIDRs (IPv4 or IPv6) the key may be used from; null: anywhere. */
    ipAllowlist: text("ip_allowlist").array(),
    /** Requests per minute; null: the configured default. */
    rateLimitPerMinute: integer("rate_limit_per_minute"),
    /** Credits this key may commit per hour, per day and in all; null: no limit. */
    spendLimitHourly: bigint("spend_limit_hourly", { mode: "number" }),
    spendLimitDaily: bigint("spend_limit_daily", { mode: "number" }),
    spendLimitTotal: bigint("spend_limit_total", { mode: "number" }),
    /** The key this one was rotated into. */
    rotatedToId: text("rotated_to_id"),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index("api_keys_account_idx").on(t.accountId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;

/**
 * What a key with a spend limit has committed in each window (hour and day by their start; the
 * total under a fixed start). Written in the create's statement, beside the hold: the CHECK makes
 * an overshoot impossible under any concurrency, as `accounts_available_nonnegative` does for the
 * balance. Released holds give their credits back to the window they were taken from.
 */
export const apiKeySpend = pgTable(
  "api_key_spend",
  {
    keyId: text("key_id")
      .notNull()
      .references(() => apiKeys.id),
    period: text("period").$type<SpendPeriod>().notNull(),
    windowStart: timestamp("window_start", { withTimezone: true }).notNull(),
    spent: bigint("spent", { mode: "number" }).notNull(),
    cap: bigint("cap", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.keyId, t.period, t.windowStart] }),
    check("api_key_spend_within_cap", sql`${t.spent} <= ${t.cap}`),
    check("api_key_spend_nonnegative", sql`${t.spent} >= 0`),
  ],
);
