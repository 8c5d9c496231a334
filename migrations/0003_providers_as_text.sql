ALTER TABLE "provider_callbacks" ALTER COLUMN "provider" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "task_attempts" ALTER COLUMN "provider" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "provider" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "tasks" ALTER COLUMN "provider" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "task_attempts" ADD COLUMN "upstream_cost_micros" integer;--> statement-breakpoint
DROP TYPE "public"."provider";