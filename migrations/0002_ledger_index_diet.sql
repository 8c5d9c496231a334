DROP INDEX "ledger_entries_task_idx";--> statement-breakpoint
DROP INDEX "ledger_entries_hold_resolved_once";--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_entries_hold_resolved_once" ON "ledger_entries" USING btree ("hold_id") WHERE "ledger_entries"."hold_id" is not null;