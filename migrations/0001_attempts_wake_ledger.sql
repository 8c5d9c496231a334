CREATE TYPE "public"."attempt_state" AS ENUM('sending', 'accepted', 'unknown', 'rejected', 'lost', 'succeeded', 'failed', 'superseded', 'abandoned');--> statement-breakpoint
CREATE TYPE "public"."failure_kind" AS ENUM('retry', 'failover', 'fail', 'circuit', 'unknown');--> statement-breakpoint
ALTER TYPE "public"."callback_outcome" ADD VALUE 'late' BEFORE 'ignored';--> statement-breakpoint
CREATE TABLE "task_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"number" integer NOT NULL,
	"provider" "provider" NOT NULL,
	"upstream_model" text NOT NULL,
	"provider_task_id" text,
	"state" "attempt_state" DEFAULT 'sending' NOT NULL,
	"callback_token" text NOT NULL,
	"upstream_cost" integer,
	"failure_kind" "failure_kind",
	"error_code" text,
	"error_message" text,
	"not_found_count" integer DEFAULT 0 NOT NULL,
	"result" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"accepted_at" timestamp with time zone,
	"ended_at" timestamp with time zone,
	"result_at" timestamp with time zone,
	CONSTRAINT "task_attempts_task_number_unique" UNIQUE("task_id","number")
);
--> statement-breakpoint
DROP INDEX "tasks_active_idx";--> statement-breakpoint
DROP INDEX "tasks_provider_task_idx";--> statement-breakpoint
-- Hand-edited: keep the text bodies already stored, as their UTF-8 bytes.
ALTER TABLE "provider_callbacks" ALTER COLUMN "body" SET DATA TYPE bytea USING convert_to("body", 'UTF8');--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "hold_id" text;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "hold_kind" "ledger_entry_kind" GENERATED ALWAYS AS ('hold'::ledger_entry_kind) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_callbacks" ADD COLUMN "attempt_number" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "next_wake_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "task_attempts" ADD CONSTRAINT "task_attempts_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "task_attempts_provider_task_idx" ON "task_attempts" USING btree ("provider","provider_task_id") WHERE "task_attempts"."provider_task_id" is not null;--> statement-breakpoint
CREATE INDEX "task_attempts_open_idx" ON "task_attempts" USING btree ("started_at") WHERE "task_attempts"."state" in ('sending', 'accepted', 'unknown');--> statement-breakpoint
-- Hand-edited: the composite foreign key below needs this unique constraint first, and existing
-- resolutions must name their hold before the check is added.
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_resolvable" UNIQUE("id","account_id","amount","kind");--> statement-breakpoint
UPDATE "ledger_entries" AS "r" SET "hold_id" = "h"."id" FROM "ledger_entries" AS "h"
  WHERE "r"."kind" IN ('capture', 'release') AND "h"."kind" = 'hold' AND "h"."task_id" = "r"."task_id";--> statement-breakpoint
-- Active tasks: the sweep checks them once, and a task already submitted gets its attempt row.
UPDATE "tasks" SET "next_wake_at" = now() WHERE "status" IN ('queued', 'submitting', 'running');--> statement-breakpoint
UPDATE "tasks" SET "attempts" = greatest("attempts", 1) WHERE "provider_task_id" IS NOT NULL;--> statement-breakpoint
INSERT INTO "task_attempts" ("id", "task_id", "number", "provider", "upstream_model", "provider_task_id", "state", "callback_token", "started_at", "accepted_at")
  SELECT 'att_' || substr("id", 6), "id", "attempts", "provider", "model", "provider_task_id", 'accepted', 'legacy', coalesce("submitted_at", "created_at"), "submitted_at"
  FROM "tasks" WHERE "provider_task_id" IS NOT NULL AND "status" IN ('queued', 'submitting', 'running');--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_hold_id_ledger_entries_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."ledger_entries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_resolves_hold" FOREIGN KEY ("hold_id","account_id","amount","hold_kind") REFERENCES "public"."ledger_entries"("id","account_id","amount","kind") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ledger_entries_task_idx" ON "ledger_entries" USING btree ("task_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_hold_resolved_once" ON "ledger_entries" USING btree ("hold_id");--> statement-breakpoint
CREATE INDEX "tasks_wake_idx" ON "tasks" USING btree ("next_wake_at") WHERE "tasks"."status" in ('queued', 'submitting', 'running');--> statement-breakpoint
CREATE INDEX "tasks_deadline_idx" ON "tasks" USING btree ("deadline_at") WHERE "tasks"."status" in ('queued', 'submitting', 'running');--> statement-breakpoint
ALTER TABLE "tasks" DROP COLUMN "upstream_cost";--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_resolution_names_hold" CHECK (("ledger_entries"."kind" in ('capture', 'release')) = ("ledger_entries"."hold_id" is not null));--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_amount_positive" CHECK ("ledger_entries"."amount" > 0);