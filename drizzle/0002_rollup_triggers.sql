-- Keeps llm_tracker_usage_rollup exact: statement-level triggers with
-- transition tables fold every inserted, updated or deleted usage row into its
-- hour and day buckets (UTC) for the model, user and node dimensions, in the
-- same transaction as the change. INSERT … ON CONFLICT DO NOTHING puts only
-- the rows actually inserted in the transition table, so a replayed event is
-- never counted twice. Groups are applied in primary-key order, so concurrent
-- writers lock rollup rows in the same order and do not deadlock.
CREATE FUNCTION llm_tracker_usage_rollup_apply() RETURNS trigger
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
  EXECUTE format($fold$
    INSERT INTO llm_tracker_usage_rollup AS r (
      grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
      total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls
    )
    SELECT g.grain, k.dimension, date_trunc(g.grain, c.created_at, 'UTC'), k.value IS NULL, coalesce(k.value, ''),
           sum(c.sign), coalesce(sum(c.sign) FILTER (WHERE c.success), 0), sum(c.sign * c.prompt_tokens),
           sum(c.sign * c.completion_tokens), sum(c.sign * c.total_tokens), sum(c.sign * c.cached_tokens),
           sum(c.sign * c.reasoning_tokens), coalesce(sum(c.sign * c.cost_usd), 0),
           coalesce(sum(c.sign) FILTER (WHERE c.cost_usd IS NULL), 0)
    FROM (%s) AS c
    CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
    CROSS JOIN LATERAL (VALUES ('model', c.model), ('user', c.user_id), ('node', c.metadata ->> 'node_name')) AS k(dimension, value)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (grain, dimension, bucket, key_is_null, key) DO UPDATE SET
      calls = r.calls + excluded.calls,
      successful_calls = r.successful_calls + excluded.successful_calls,
      prompt_tokens = r.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = r.completion_tokens + excluded.completion_tokens,
      total_tokens = r.total_tokens + excluded.total_tokens,
      cached_tokens = r.cached_tokens + excluded.cached_tokens,
      reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
      cost_usd = r.cost_usd + excluded.cost_usd,
      unpriced_calls = r.unpriced_calls + excluded.unpriced_calls
  $fold$, changed);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- No writer may slip rows in between the backfill and the triggers.
LOCK TABLE llm_tracker_usage IN SHARE ROW EXCLUSIVE MODE;
--> statement-breakpoint
INSERT INTO llm_tracker_usage_rollup (
  grain, dimension, bucket, key_is_null, key, calls, successful_calls, prompt_tokens, completion_tokens,
  total_tokens, cached_tokens, reasoning_tokens, cost_usd, unpriced_calls
)
SELECT g.grain, k.dimension, date_trunc(g.grain, u.created_at, 'UTC'), k.value IS NULL, coalesce(k.value, ''),
       count(*), count(*) FILTER (WHERE u.success), sum(u.prompt_tokens), sum(u.completion_tokens), sum(u.total_tokens),
       sum(u.cached_tokens), sum(u.reasoning_tokens), coalesce(sum(u.cost_usd), 0), count(*) FILTER (WHERE u.cost_usd IS NULL)
FROM llm_tracker_usage u
CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
CROSS JOIN LATERAL (VALUES ('model', u.model), ('user', u.user_id), ('node', u.metadata ->> 'node_name')) AS k(dimension, value)
GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
CREATE TRIGGER llm_tracker_usage_rollup_insert AFTER INSERT ON llm_tracker_usage
  REFERENCING NEW TABLE AS llm_tracker_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION llm_tracker_usage_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER llm_tracker_usage_rollup_update AFTER UPDATE ON llm_tracker_usage
  REFERENCING OLD TABLE AS llm_tracker_old_rows NEW TABLE AS llm_tracker_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION llm_tracker_usage_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER llm_tracker_usage_rollup_delete AFTER DELETE ON llm_tracker_usage
  REFERENCING OLD TABLE AS llm_tracker_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION llm_tracker_usage_rollup_apply();
