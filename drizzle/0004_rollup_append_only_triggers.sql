-- The rollup triggers append instead of upserting. Upserting the same rollup
-- rows from every statement (all traffic lands in the current hour and day)
-- left long chains of dead row versions and cost 3-5x the insert itself;
-- appending one partial sum per group costs a fraction of that. The stats sum
-- every row of a key, so several rows per key are exact; the worker merges
-- them from time to time with llm_tracker_usage_rollup_compact() below.
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
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls
    )
    SELECT CASE WHEN grouping(g.hour) = 0 THEN 'hour' ELSE 'day' END,
           CASE WHEN grouping(g.model) = 0 THEN 'model' WHEN grouping(g.user_id) = 0 THEN 'user' ELSE 'node' END,
           coalesce(g.hour, g.day),
           CASE WHEN grouping(g.model) = 0 THEN false WHEN grouping(g.user_id) = 0 THEN g.user_id IS NULL ELSE g.node IS NULL END,
           CASE WHEN grouping(g.model) = 0 THEN g.model WHEN grouping(g.user_id) = 0 THEN coalesce(g.user_id, '') ELSE coalesce(g.node, '') END,
           sum(g.sign), coalesce(sum(g.sign) FILTER (WHERE g.success), 0), sum(g.sign * g.prompt_tokens),
           sum(g.sign * g.completion_tokens), sum(g.sign * g.total_tokens), sum(g.sign * g.cached_tokens),
           sum(g.sign * g.reasoning_tokens), coalesce(sum(g.sign * g.cost_usd), 0),
           coalesce(sum(g.sign) FILTER (WHERE g.cost_usd IS NULL), 0)
    FROM (
      SELECT c.sign, date_trunc('hour', c.created_at, 'UTC') AS hour, date_trunc('day', c.created_at, 'UTC') AS day,
             c.model, c.user_id, c.metadata ->> 'node_name' AS node, c.success, c.prompt_tokens, c.completion_tokens,
             c.total_tokens, c.cached_tokens, c.reasoning_tokens, c.cost_usd
      FROM (%s) AS c
    ) AS g
    GROUP BY GROUPING SETS ((g.hour, g.model), (g.hour, g.user_id), (g.hour, g.node),
                            (g.day, g.model), (g.day, g.user_id), (g.day, g.node))
  $fold$, changed);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Merges the rows of each key in buckets from `since` on into one row (keys
-- whose every sum is zero, left by deletes, disappear). Exact under concurrent
-- writers: the DELETE takes only rows its snapshot sees and the INSERT puts
-- back exactly their sums; rows appended meanwhile stay beside them, and a
-- concurrent compaction skips rows already taken. Returns the rows removed.
CREATE FUNCTION llm_tracker_usage_rollup_compact(since timestamptz DEFAULT '-infinity') RETURNS bigint
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
    INSERT INTO llm_tracker_usage_rollup
    SELECT grain, dimension, bucket, key_is_null, key, sum(calls), sum(successful_calls), sum(prompt_tokens),
           sum(completion_tokens), sum(total_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost_usd), sum(unpriced_calls)
    FROM moved
    GROUP BY grain, dimension, bucket, key_is_null, key
    HAVING sum(calls) <> 0 OR sum(successful_calls) <> 0 OR sum(prompt_tokens) <> 0 OR sum(completion_tokens) <> 0
        OR sum(total_tokens) <> 0 OR sum(cached_tokens) <> 0 OR sum(reasoning_tokens) <> 0 OR sum(cost_usd) <> 0
        OR sum(unpriced_calls) <> 0
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM moved) - (SELECT count(*) FROM merged) INTO removed;
  RETURN removed;
END;
$$;
