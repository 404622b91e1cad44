CREATE TABLE "llm_tracker_usage" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text,
	"model" text DEFAULT 'unknown' NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"cached_tokens" integer DEFAULT 0 NOT NULL,
	"reasoning_tokens" integer DEFAULT 0 NOT NULL,
	"success" boolean DEFAULT true NOT NULL,
	"error" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"provider" text,
	"deployment" text,
	"latency_ms" integer,
	"usage_reported" boolean,
	"inserted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_created_at_idx" ON "llm_tracker_usage" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_user_id_created_at_idx" ON "llm_tracker_usage" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_model_created_at_idx" ON "llm_tracker_usage" USING btree ("model","created_at");