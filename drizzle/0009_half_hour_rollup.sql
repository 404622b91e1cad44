-- No usage row may be written between the new fold below and the backfill of
-- the half-hour buckets at the end (it would be counted twice or never): the
-- lock is held until this migration commits.
LOCK TABLE llm_tracker_usage IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
-- A fourth grain, half-hour buckets, for the zones whose offset is a whole
-- number of half hours but not of hours (Asia/Kolkata, Iran, Newfoundland,
-- South Australia, …): there every local hour — and every local midnight —
-- cuts a UTC hour at :30, and the stats read such an hour as its two half-hour
-- rows per key instead of its twelve five-minute ones (src/stats/usage-sources.ts).
-- Per model, per node and in total only, not per user: most users call in one
-- or two five-minute buckets of a half hour, so per user the half-hour rows are
-- about as many as the five-minute ones (with a user grouping, 10M calls from
-- 100,000 users gave 8.4M half-hour rows, nearly all per user, beside 9.6M
-- five-minute rows, and grew the rollup from 7.7 to 11 GB) while saving a
-- user-grouped or user-filtered read little; those read a cut hour's
-- five-minute rows. Same fold as 0006, three more groupings. Buckets are
-- aligned on UTC instants, as the others are.
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
  -- One pass, fifteen groupings (five minutes, hour and day × model, user, node, total; half hour × model, node, total).
  EXECUTE format($fold$
    INSERT INTO llm_tracker_usage_rollup (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
      latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls
    )
    SELECT CASE WHEN grouping(g.minutes) = 0 THEN 'five_minutes' WHEN grouping(g.half_hour) = 0 THEN 'half_hour'
                WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
           CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' WHEN grouping(g.node) = 0 THEN 'node' ELSE 'total' END,
           coalesce(g.minutes, g.half_hour, g.hour, g.day),
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
             date_bin('30 minutes', c.created_at, '2000-01-01T00:00:00Z') AS half_hour,
             date_trunc('hour', c.created_at, 'UTC') AS hour, date_trunc('day', c.created_at, 'UTC') AS day,
             c.model, c.user_id, c.metadata ->> 'node_name' AS node, c.success, c.prompt_tokens, c.completion_tokens,
             c.total_tokens, c.cached_tokens, c.reasoning_tokens, c.cost_usd, c.latency_ms::int8 AS latency_ms,
             c.time_to_first_token_ms::int8 AS time_to_first_token_ms
      FROM (%s) AS c
    ) AS g
    GROUP BY GROUPING SETS ((g.minutes, g.model), (g.minutes, g.user_id), (g.minutes, g.node), (g.minutes),
                            (g.half_hour, g.model), (g.half_hour, g.node), (g.half_hour),
                            (g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node), (g.hour),
                            (g.day, g.model), (g.day, g.user_id), (g.day, g.node), (g.day))
  $fold$, changed);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- The half-hour buckets of the rows written before this migration (the lock
-- above keeps the table still until it commits), summed from their six
-- five-minute buckets: the five-minute rows are exact sums of the raw rows and
-- half-hour buckets are unions of whole five-minute ones (both aligned on
-- 2000-01-01T00:00Z), and there are fewer of them than raw rows. One row per
-- key and bucket, so written compacted (keys whose sums are all zero, left by
-- deletes, are left out, as the compaction would); in bucket order, so a range
-- of half hours is a contiguous run of the heap, as the triggers' appends
-- leave it. No user rows, as the fold above writes none. The compaction
-- (llm_tracker_usage_rollup_compact, 0008) merges any grain's rows alike.
INSERT INTO llm_tracker_usage_rollup (
  grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
  total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls,
  latency_ms_sum, latency_calls, ttft_ms_sum, ttft_calls, compacted
)
SELECT 'half_hour', dimension, date_bin('30 minutes', bucket, '2000-01-01T00:00:00Z'), key_is_null, key,
       sum(calls), sum(successful_calls), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cached_tokens),
       sum(reasoning_tokens), sum(cost_usd), sum(unpriced_calls), sum(latency_ms_sum), sum(latency_calls), sum(ttft_ms_sum),
       sum(ttft_calls), true
FROM llm_tracker_usage_rollup
WHERE grain = 'five_minutes' AND dimension <> 'user'
GROUP BY dimension, date_bin('30 minutes', bucket, '2000-01-01T00:00:00Z'), key_is_null, key
HAVING sum(calls) <> 0 OR sum(successful_calls) <> 0 OR sum(prompt_tokens) <> 0 OR sum(completion_tokens) <> 0
    OR sum(total_tokens) <> 0 OR sum(cached_tokens) <> 0 OR sum(reasoning_tokens) <> 0 OR sum(cost_usd) <> 0
    OR sum(unpriced_calls) <> 0 OR sum(latency_ms_sum) <> 0 OR sum(latency_calls) <> 0 OR sum(ttft_ms_sum) <> 0
    OR sum(ttft_calls) <> 0
ORDER BY date_bin('30 minutes', bucket, '2000-01-01T00:00:00Z'), dimension;
