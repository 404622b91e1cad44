CREATE TABLE "llm_tracker_usage_rollup" (
	"grain" text NOT NULL,
	"dimension" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"key_is_null" boolean NOT NULL,
	"key" text NOT NULL,
	"calls" bigint NOT NULL,
	"successful_calls" bigint NOT NULL,
	"prompt_tokens" bigint NOT NULL,
	"completion_tokens" bigint NOT NULL,
	"total_tokens" bigint NOT NULL,
	"cached_tokens" bigint NOT NULL,
	"reasoning_tokens" bigint NOT NULL,
	"cost_usd" numeric(30, 10) NOT NULL,
	"unpriced_calls" bigint NOT NULL,
	CONSTRAINT "llm_tracker_usage_rollup_grain_dimension_bucket_key_is_null_key_pk" PRIMARY KEY("grain","dimension","bucket","key_is_null","key")
);
--> statement-breakpoint
ALTER TABLE "llm_tracker_usage" ADD COLUMN "cost_usd" numeric(20, 10);--> statement-breakpoint
ALTER TABLE "llm_tracker_usage" ADD COLUMN "price_version" text;