-- Rollup compactions serialize on an advisory lock. Two compactions at once (two
-- workers) could each merge part of one key's rows — the second only the rows the
-- first had not deleted yet — and leave that key with two compacted rows. Totals
-- stayed exact, but the next pass never looked at such a key again (it looks only
-- at keys with an uncompacted row), and the top-N search reads a bucket's compacted
-- rows as one per key: a key split in two could rank below the head of its bucket
-- and be missed. Found by the suite (test/db/rollup-compaction.test.ts, 1 run in 6).
--
-- With the lock, each compaction starts after the one before it committed, sees all
-- of that one's rows, and deletes every row of each key it merges: at most one
-- compacted row per key. A writer's row committed meanwhile stays uncompacted and
-- joins at the next pass.

-- The keys already split that way are marked uncompacted, so the next pass (the
-- worker's first, at start, is a full one) merges them.
UPDATE llm_tracker_usage_rollup r SET compacted = false
FROM (
  SELECT grain, dimension, bucket, key_is_null, key
  FROM llm_tracker_usage_rollup
  WHERE compacted
  GROUP BY grain, dimension, bucket, key_is_null, key
  HAVING count(*) > 1
) AS split
WHERE (r.grain, r.dimension, r.bucket, r.key_is_null, r.key) = (split.grain, split.dimension, split.bucket, split.key_is_null, split.key);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION llm_tracker_usage_rollup_compact(since timestamptz DEFAULT '-infinity') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  -- Held until the calling transaction ends; the statement below takes its snapshot after it.
  PERFORM pg_advisory_xact_lock(7146385203);
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
