ALTER TABLE "tasks" ADD COLUMN "door" text DEFAULT 'native' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "door_request" json;