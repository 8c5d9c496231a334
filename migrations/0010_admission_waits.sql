ALTER TABLE "batches" ADD COLUMN "estimated_end_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "waiting_for" jsonb;