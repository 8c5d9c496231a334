ALTER TYPE "public"."ledger_entry_kind" ADD VALUE 'adjustment';--> statement-breakpoint
CREATE TABLE "api_key_spend" (
	"key_id" text NOT NULL,
	"period" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"spent" bigint NOT NULL,
	"cap" bigint NOT NULL,
	CONSTRAINT "api_key_spend_key_id_period_window_start_pk" PRIMARY KEY("key_id","period","window_start"),
	CONSTRAINT "api_key_spend_within_cap" CHECK ("api_key_spend"."spent" <= "api_key_spend"."cap"),
	CONSTRAINT "api_key_spend_nonnegative" CHECK ("api_key_spend"."spent" >= 0)
);
--> statement-breakpoint
CREATE TABLE "plans" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"monthly_credits" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plans_name_unique" UNIQUE("name"),
	CONSTRAINT "plans_monthly_credits_nonnegative" CHECK ("plans"."monthly_credits" >= 0)
);
--> statement-breakpoint
CREATE TABLE "subscriptions" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"plan_id" text NOT NULL,
	"starts_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"canceled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscriptions_ends_after_start" CHECK ("subscriptions"."ends_at" > "subscriptions"."starts_at")
);
--> statement-breakpoint
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_amount_positive";--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "is_vip" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "active_tasks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "max_active_tasks" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "scopes" text[] DEFAULT '{read,write}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "ip_allowlist" text[];--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rate_limit_per_minute" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_limit_hourly" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_limit_daily" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "spend_limit_total" bigint;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "rotated_to_id" text;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "actor" text;--> statement-breakpoint
ALTER TABLE "api_key_spend" ADD CONSTRAINT "api_key_spend_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_plan_id_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "subscriptions_account_idx" ON "subscriptions" USING btree ("account_id","ends_at");--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_active_tasks_nonnegative" CHECK ("accounts"."active_tasks" >= 0);--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_active_tasks_within_limit" CHECK ("accounts"."max_active_tasks" is null or "accounts"."active_tasks" <= "accounts"."max_active_tasks");--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_amount_positive" CHECK ("ledger_entries"."amount" > 0 or ("ledger_entries"."kind"::text = 'adjustment' and "ledger_entries"."amount" <> 0));--> statement-breakpoint
-- Tasks already in flight count toward their account's active tasks, or their endings would
-- take the counter below zero.
UPDATE "accounts" AS a SET "active_tasks" = (SELECT count(*) FROM "tasks" AS t WHERE t."account_id" = a."id" AND t."batch_id" IS NULL AND t."status" IN ('queued', 'submitting', 'running'));
