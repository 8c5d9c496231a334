ALTER TABLE "tasks" ADD COLUMN "door" text DEFAULT 'native' NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "door_request" json;--> statement-breakpoint
CREATE INDEX "ledger_entries_grants_idx" ON "ledger_entries" USING btree ("account_id","amount") WHERE "ledger_entries"."kind" = 'grant';