ALTER TABLE "llm_tracker_usage" ADD COLUMN "streamed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage" ADD COLUMN "time_to_first_token_ms" integer;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage" ADD COLUMN "operation" text DEFAULT 'chat' NOT NULL;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage_rollup" ADD COLUMN "latency_ms_sum" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage_rollup" ADD COLUMN "latency_calls" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage_rollup" ADD COLUMN "ttft_ms_sum" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "llm_tracker_usage_rollup" ADD COLUMN "ttft_calls" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- The rollup also sums latency and time to first token (with how many calls
-- had each), so the stats give exact averages for whole buckets. Same fold as
-- 0004, four more sums.
CREATE OR REPLACE FUNCTION llm_tracker_usage_rollup_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  -- Only the transition tables this trigger declared exist, so the source of
  -- the changed rows is chosen per operation and the one fold below is shared.
  changed text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM llm_tracker_new_rows'
    WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM llm_tracker_old_rows'
    ELSE 'SELECT 1 AS sign, * FROM llm_tracker_new_rows UNION ALL SELECT -1 AS sign, * FROM llm_tracker_old_rows'
  END;
BEGIN
  -- One pass, six groupings (hour and day × model, user, node).
  EXECUTE format($fold$
    INSERT INTO llm_tracker_usage_rollup (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
    )
    SELECT CASE WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
           CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' ELSE 'node' END,
           coalesce(g.hour, g.day),
           CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL ELSE g.node IS NULL END,
           CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') ELSE coalesce(g.node, '') END,
           sum(g.sign), coalesce(sum(g.sign) FILTER (WHERE g.success), 0), sum(g.sign * g.prompt_tokens),
           sum(g.sign * g.completion_tokens), sum(g.sign * g.total_tokens), sum(g.sign * g.cached_tokens),
           sum(g.sign * g.reasoning_tokens), coalesce(sum(g.sign * g.cost_usd), 0),
           coalesce(sum(g.sign) FILTER (WHERE g.cost_usd IS NULL), 0),
           coalesce(sum(g.sign * g.latency_ms), 0), coalesce(sum(g.sign) FILTER (WHERE g.latency_ms IS NOT NULL), 0),
           coalesce(sum(g.sign * g.time_to_first_token_ms), 0),
           coalesce(sum(g.sign) FILTER (WHERE g.time_to_first_token_ms IS NOT NULL), 0)
    FROM (
      SELECT c.sign, date_trunc('hour', c.created_at, 'UTC') AS hour, date_trunc('day', c.created_at, 'UTC') AS day,
             c.model, c.user_id, c.metadata ->> 'node_name' AS node, c.success, c.prompt_tokens, c.completion_tokens,
             c.total_tokens, c.cached_tokens, c.reasoning_tokens, c.cost_usd, c.latency_ms::int8 AS latency_ms,
             c.time_to_first_token_ms::int8 AS time_to_first_token_ms
      FROM (%s) AS c
    ) AS g
    GROUP BY GROUPING SETS ((g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node),
                            (g.day, g.model), (g.day, g.user_id), (g.day, g.node))
  $fold$, changed);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- As in 0004, with the four new sums merged and kept.
CREATE OR REPLACE FUNCTION llm_tracker_usage_rollup_compact(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  WITH split AS (
    SELECT grain, dimension, bucket, key_is_null, key
    FROM llm_tracker_usage_rollup
    WHERE bucket >= since
    GROUP BY grain, dimension, bucket, key_is_null, key
    HAVING count(*) > 1 OR sum(calls) = 0
  ), moved AS (
    DELETE FROM llm_tracker_usage_rollup r
    USING split s
    WHERE (r.grain, r.dimension, r.bucket, r.key_is_null, r.key) = (s.grain, s.dimension, s.bucket, s.key_is_null, s.key)
    RETURNING r.*
  ), merged AS (
    INSERT INTO llm_tracker_usage_rollup (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
    )
    SELECT grain, dimension, bucket, key_is_null, key, sum(calls), sum(successful_calls), sum(prompt_tokens),
           sum(completion_tokens), sum(total_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost_usd), sum(unpriced_calls),
           sum(latency_ms_sum), sum(latency_calls), sum(ttft_ms_sum), sum(ttft_calls)
    FROM moved
    GROUP BY grain, dimension, bucket, key_is_null, key
    HAVING sum(calls) <> 0 OR sum(successful_calls) <> 0 OR sum(prompt_tokens) <> 0 OR sum(completion_tokens) <> 0
        OR sum(total_tokens) <> 0 OR sum(cached_tokens) <> 0 OR sum(reasoning_tokens) <> 0 OR sum(cost_usd) <> 0
        OR sum(unpriced_calls) <> 0 OR sum(latency_ms_sum) <> 0 OR sum(latency_calls) <> 0 OR sum(ttft_ms_sum) <> 0
        OR sum(ttft_calls) <> 0
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM moved) - (SELECT count(*) FROM merged) INTO removed;
  RETURN removed;
END;
$$;
--> statement-breakpoint
-- The rollup rows written before this migration have no latency sums: append
-- one partial row per key with just those (the counts stay where they are; the
-- stats and the compaction sum every row of a key). The ALTER TABLEs above hold
-- the usage table's exclusive lock until this migration commits, so no row is
-- written meanwhile. Rows written before had no time to first token.
INSERT INTO llm_tracker_usage_rollup (
  grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
  total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
  latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
)
SELECT CASE WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
       CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' ELSE 'node' END,
       coalesce(g.hour, g.day),
       CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL ELSE g.node IS NULL END,
       CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') ELSE coalesce(g.node, '') END,
       0, 0, 0, 0, 0, 0, 0, 0, 0,
       sum(g.latency_ms), count(g.latency_ms), 0, 0
FROM (
  SELECT date_trunc('hour', created_at, 'UTC') AS hour, date_trunc('day', created_at, 'UTC') AS day,
         model, user_id, metadata ->> 'node_name' AS node, latency_ms::int8 AS latency_ms
  FROM llm_tracker_usage
  WHERE latency_ms IS NOT NULL
) AS g
GROUP BY GROUPING SETS ((g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node),
                        (g.day, g.model), (g.day, g.user_id), (g.day, g.node));
