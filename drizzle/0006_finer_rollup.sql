ALTER TABLE "llm_tracker_usage_rollup" ADD COLUMN "compacted" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_failed_created_at_idx" ON "llm_tracker_usage" USING btree ("created_at","id") WHERE NOT success;--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_rollup_by_key_idx" ON "llm_tracker_usage_rollup" USING btree ("grain","dimension","key_is_null","key","bucket");--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_rollup_top_idx" ON "llm_tracker_usage_rollup" USING btree ("grain","dimension","bucket","total_tokens" DESC NULLS LAST,"key_is_null","key") WHERE compacted;--> statement-breakpoint
CREATE INDEX "llm_tracker_usage_rollup_pending_idx" ON "llm_tracker_usage_rollup" USING btree ("grain","dimension","bucket") WHERE NOT compacted;--> statement-breakpoint
-- No usage row may be written between the new fold below and the backfill of
-- the five-minute buckets at the end (it would be counted twice or never): the
-- lock is held until this migration commits.
LOCK TABLE llm_tracker_usage IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
-- A third grain, five-minute buckets, so a range's edges are read from the raw
-- rows for at most five minutes at each end (and hours a local midnight cuts,
-- at :30 / :45 offsets, from twelve five-minute buckets instead of the raw
-- rows); and a fourth dimension, `total` (key ''), one row per bucket for the
-- stats that do not group, so they read one row per bucket, not one per model.
-- Same fold as 0005, six more groupings. Buckets are aligned on UTC instants,
-- as the hour buckets are.
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
  -- One pass, twelve groupings (five minutes, hour and day × model, user, node, total).
  EXECUTE format($fold$
    INSERT INTO llm_tracker_usage_rollup (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
    )
    SELECT CASE WHEN grouping(g.minutes) = 0 THEN 'five_minutes' WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
           CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' WHEN grouping(g.node) = 0 THEN 'node' ELSE 'total' END,
           coalesce(g.minutes, g.hour, g.day),
           CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL WHEN grouping(g.node) = 0 THEN g.node IS NULL ELSE false END,
           CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') WHEN grouping(g.node) = 0 THEN coalesce(g.node, '') ELSE '' END,
           sum(g.sign), coalesce(sum(g.sign) FILTER (WHERE g.success), 0), sum(g.sign * g.prompt_tokens),
           sum(g.sign * g.completion_tokens), sum(g.sign * g.total_tokens), sum(g.sign * g.cached_tokens),
           sum(g.sign * g.reasoning_tokens), coalesce(sum(g.sign * g.cost_usd), 0),
           coalesce(sum(g.sign) FILTER (WHERE g.cost_usd IS NULL), 0),
           coalesce(sum(g.sign * g.latency_ms), 0), coalesce(sum(g.sign) FILTER (WHERE g.latency_ms IS NOT NULL), 0),
           coalesce(sum(g.sign * g.time_to_first_token_ms), 0),
           coalesce(sum(g.sign) FILTER (WHERE g.time_to_first_token_ms IS NOT NULL), 0)
    FROM (
      SELECT c.sign, date_bin('5 minutes', c.created_at, '2000-01-01T00:00:00Z') AS minutes,
             date_trunc('hour', c.created_at, 'UTC') AS hour, date_trunc('day', c.created_at, 'UTC') AS day,
             c.model, c.user_id, c.metadata ->> 'node_name' AS node, c.success, c.prompt_tokens, c.completion_tokens,
             c.total_tokens, c.cached_tokens, c.reasoning_tokens, c.cost_usd, c.latency_ms::int8 AS latency_ms,
             c.time_to_first_token_ms::int8 AS time_to_first_token_ms
      FROM (%s) AS c
    ) AS g
    GROUP BY GROUPING SETS ((g.minutes, g.model), (g.minutes, g.user_id), (g.minutes, g.node), (g.minutes),
                            (g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node), (g.hour),
                            (g.day, g.model), (g.day, g.user_id), (g.day, g.node), (g.day))
  $fold$, changed);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Merges every key that has appended partial sums (compacted = false) in
-- buckets from `since` on into one compacted row (keys whose every sum is zero,
-- left by deletes, disappear). Found through the partial index on the
-- uncompacted rows, so a pass costs what was appended since the last one, not
-- the size of the rollup. Exact under concurrent writers: the DELETE takes only
-- rows its snapshot sees and the INSERT puts back exactly their sums; rows
-- appended meanwhile stay beside them (uncompacted), and a concurrent
-- compaction skips rows already taken. Returns the rows removed.
CREATE OR REPLACE FUNCTION llm_tracker_usage_rollup_compact(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  WITH split AS (
    SELECT DISTINCT grain, dimension, bucket, key_is_null, key
    FROM llm_tracker_usage_rollup
    WHERE NOT compacted AND bucket >= since
  ), moved AS (
    DELETE FROM llm_tracker_usage_rollup r
    USING split s
    WHERE (r.grain, r.dimension, r.bucket, r.key_is_null, r.key) = (s.grain, s.dimension, s.bucket, s.key_is_null, s.key)
    RETURNING r.*
  ), merged AS (
    INSERT INTO llm_tracker_usage_rollup (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls, compacted
    )
    SELECT grain, dimension, bucket, key_is_null, key, sum(calls), sum(successful_calls), sum(prompt_tokens),
           sum(completion_tokens), sum(total_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost_usd), sum(unpriced_calls),
           sum(latency_ms_sum), sum(latency_calls), sum(ttft_ms_sum), sum(ttft_calls), true
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
-- The new buckets of the rows written before this migration (the lock above
-- keeps the table still until it commits): five minutes for every dimension,
-- and the total of every grain. Appended uncompacted, like the trigger's sums:
-- the worker's next compaction merges them.
INSERT INTO llm_tracker_usage_rollup (
  grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
  total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
  latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
)
SELECT CASE WHEN grouping(g.minutes) = 0 THEN 'five_minutes' WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
       CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' WHEN grouping(g.node) = 0 THEN 'node' ELSE 'total' END,
       coalesce(g.minutes, g.hour, g.day),
       CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL WHEN grouping(g.node) = 0 THEN g.node IS NULL ELSE false END,
       CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') WHEN grouping(g.node) = 0 THEN coalesce(g.node, '') ELSE '' END,
       count(*), count(*) FILTER (WHERE g.success), sum(g.prompt_tokens), sum(g.completion_tokens), sum(g.total_tokens),
       sum(g.cached_tokens), sum(g.reasoning_tokens), coalesce(sum(g.cost_usd), 0), count(*) FILTER (WHERE g.cost_usd IS NULL),
       coalesce(sum(g.latency_ms), 0), count(g.latency_ms), coalesce(sum(g.time_to_first_token_ms), 0), count(g.time_to_first_token_ms)
FROM (
  SELECT date_bin('5 minutes', created_at, '2000-01-01T00:00:00Z') AS minutes, date_trunc('hour', created_at, 'UTC') AS hour,
         date_trunc('day', created_at, 'UTC') AS day, model, user_id, metadata ->> 'node_name' AS node,
         success, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, cost_usd,
         latency_ms::int8 AS latency_ms, time_to_first_token_ms::int8 AS time_to_first_token_ms
  FROM llm_tracker_usage
) AS g
GROUP BY GROUPING SETS ((g.minutes, g.model), (g.minutes, g.user_id), (g.minutes, g.node), (g.minutes), (g.hour), (g.day));
