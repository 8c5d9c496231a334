CREATE TABLE "provider_polls" (
	"id" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"task_id" text NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL
);
