-- llm_tracker_usage becomes a table range-partitioned on created_at, one
-- partition per UTC day, plus a default partition for rows whose day has no
-- partition yet. Retention then drops whole days (DROP TABLE of a partition:
-- no row DELETE, no dead rows, no vacuum) and the rollup keeps their totals.
-- Written by hand: drizzle-kit cannot express partitioned tables. Never run
-- `drizzle-kit push` against this database (docs/scaling.md).
--
-- The primary key becomes (created_at, id): a partitioned table's unique keys
-- must contain the partition key. It is still the event's identity: the
-- producer stamps created_at once, with the id, and a redelivered event
-- carries both unchanged, so the worker's INSERT … ON CONFLICT DO NOTHING
-- skips it exactly as before. created_at leads so the key probes one partition.
--
-- The functions below create and drop partitions; the worker calls them at
-- start and every hour (src/db/partition-upkeep.ts). All of them hold one
-- transaction-scoped advisory lock, so two workers doing upkeep at once
-- serialize, and each waits at most 10 s for a table lock (then fails, to be
-- retried at the next pass) so it never stalls the writers and readers queued
-- behind it for long.

-- The partition holding UTC day `day`: llm_tracker_usage_pYYYYMMDD.
CREATE FUNCTION llm_tracker_usage_partition_name(day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'llm_tracker_usage_p' || to_char(day, 'YYYYMMDD') $$;
--> statement-breakpoint
-- Creates the partitions of the UTC days first_day..last_day that do not exist
-- yet. Rows of such a day already in the default partition move into the new
-- partition (their rollup totals stay as they are: moving rows between
-- partitions of one table fires none of the table's statement triggers).
-- Returns one row per partition created, with how many rows moved into it.
CREATE FUNCTION llm_tracker_usage_create_partitions(first_day date, last_day date)
RETURNS TABLE (partition text, day date, moved_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  parent regclass := 'llm_tracker_usage'::regclass;
  schema_name text := (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'llm_tracker_usage'::regclass);
  -- From the catalog alone (pg_get_expr on a partition bound would lock the partition).
  default_partition text := (
    SELECT nullif(partdefid, 0)::regclass::text FROM pg_partitioned_table WHERE partrelid = 'llm_tracker_usage'::regclass);
  saved_lock_timeout text := current_setting('lock_timeout');
  d date;
  qualified text;
  lo timestamptz;
  hi timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(7146385202);
  PERFORM set_config('lock_timeout', '10s', true);
  FOR d IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', schema_name, llm_tracker_usage_partition_name(d))) IS NOT NULL;
    qualified := format('%I.%I', schema_name, llm_tracker_usage_partition_name(d));
    lo := d::timestamp AT TIME ZONE 'UTC';
    hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
    -- A table of its own, attached below: ATTACH locks the parent in SHARE UPDATE
    -- EXCLUSIVE mode, which neither writers nor readers wait for (CREATE TABLE …
    -- PARTITION OF would take ACCESS EXCLUSIVE). ATTACH builds its indexes.
    EXECUTE format('CREATE TABLE %s (LIKE llm_tracker_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)', qualified);
    moved_rows := 0;
    IF default_partition IS NOT NULL THEN
      -- Held until commit: no row of this day may reach the default partition
      -- between the move and the ATTACH (which takes this lock anyway).
      EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', default_partition);
      EXECUTE format('WITH moved AS (DELETE FROM %s WHERE created_at >= $1 AND created_at < $2 RETURNING *) INSERT INTO %s SELECT * FROM moved',
                     default_partition, qualified) USING lo, hi;
      GET DIAGNOSTICS moved_rows = ROW_COUNT;
    END IF;
    EXECUTE format('ALTER TABLE llm_tracker_usage ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', qualified, lo, hi);
    partition := llm_tracker_usage_partition_name(d);
    day := d;
    RETURN NEXT;
  END LOOP;
  PERFORM set_config('lock_timeout', saved_lock_timeout, true);
END;
$$;
--> statement-breakpoint
-- What the worker runs at start and every hour: the partitions of today (UTC)
-- through `days_ahead` days from now, and of every earlier day that has rows in
-- the default partition (late rows, backfills: they move into their day's
-- partition, which retention then drops like any other). Rows dated after the
-- window stay in the default partition until the window reaches their day.
CREATE FUNCTION llm_tracker_usage_create_partitions_ahead(days_ahead integer DEFAULT 7)
RETURNS TABLE (partition text, day date, moved_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  -- From the catalog alone (pg_get_expr on a partition bound would lock the partition).
  default_partition text := (
    SELECT nullif(partdefid, 0)::regclass::text FROM pg_partitioned_table WHERE partrelid = 'llm_tracker_usage'::regclass);
  saved_lock_timeout text := current_setting('lock_timeout');
  late date;
BEGIN
  IF days_ahead < 0 THEN RAISE EXCEPTION 'days_ahead must be 0 or more, not %', days_ahead; END IF;
  PERFORM pg_advisory_xact_lock(7146385202);
  PERFORM set_config('lock_timeout', '10s', true);
  IF default_partition IS NOT NULL THEN
    FOR late IN EXECUTE format(
      'SELECT DISTINCT (created_at AT TIME ZONE ''UTC'')::date FROM %s WHERE created_at < $1 ORDER BY 1', default_partition)
      USING (today::timestamp AT TIME ZONE 'UTC')
    LOOP
      RETURN QUERY SELECT * FROM llm_tracker_usage_create_partitions(late, late);
    END LOOP;
  END IF;
  RETURN QUERY SELECT * FROM llm_tracker_usage_create_partitions(today, today + days_ahead);
  PERFORM set_config('lock_timeout', saved_lock_timeout, true);
END;
$$;
--> statement-breakpoint
-- Drops every daily partition whose whole day ended at least `retention_days`
-- × 24 hours ago (DROP TABLE: no row DELETE, so the rollup keeps the totals of
-- the dropped rows). The default partition is never dropped: run
-- llm_tracker_usage_create_partitions_ahead first to move its old rows into
-- their days' partitions. Returns one row per partition dropped.
CREATE FUNCTION llm_tracker_usage_drop_expired_partitions(retention_days integer)
RETURNS TABLE (partition text, day date)
LANGUAGE plpgsql AS $$
DECLARE
  saved_lock_timeout text := current_setting('lock_timeout');
  expired record;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 THEN RAISE EXCEPTION 'retention_days must be 1 or more, not %', retention_days; END IF;
  PERFORM pg_advisory_xact_lock(7146385202);
  PERFORM set_config('lock_timeout', '10s', true);
  FOR expired IN
    SELECT c.oid::regclass::text AS qualified, c.relname::text AS name, to_date(substring(c.relname from 20 for 8), 'YYYYMMDD') AS d
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'llm_tracker_usage'::regclass AND c.relname ~ '^llm_tracker_usage_p[0-9]{8}$'
    ORDER BY c.relname
  LOOP
    CONTINUE WHEN (expired.d + 1)::timestamp AT TIME ZONE 'UTC' > now() - retention_days * interval '24 hours';
    EXECUTE format('DROP TABLE %s', expired.qualified);
    partition := expired.name;
    day := expired.d;
    RETURN NEXT;
  END LOOP;
  PERFORM set_config('lock_timeout', saved_lock_timeout, true);
END;
$$;
--> statement-breakpoint
-- The conversion. Everything an earlier migration (or an operator) put on the
-- table is read from the catalog and carried over: columns (LIKE), indexes
-- (pg_indexes), triggers (the rollup's and any other), grants.
DO $convert$
DECLARE
  index_definitions text[];
  trigger_definitions text[];
  grants text[];
  unique_constraints text;
  definition text;
  d date;
BEGIN
  -- Writers and readers wait until this migration commits, then use the new
  -- table (a statement blocked on the lock re-reads the name once it gets it).
  LOCK TABLE llm_tracker_usage IN ACCESS EXCLUSIVE MODE;

  SELECT string_agg(conname, ', ') INTO unique_constraints FROM pg_constraint
  WHERE conrelid = 'llm_tracker_usage'::regclass AND contype IN ('u', 'x');
  IF unique_constraints IS NOT NULL THEN
    RAISE EXCEPTION 'llm_tracker_usage has unique or exclusion constraints (%) that a table partitioned by created_at cannot keep; drop them first', unique_constraints;
  END IF;
  -- Every index but the primary key's, as its CREATE INDEX statement (it names
  -- the table, which the new table will be called by the time they run).
  SELECT coalesce(array_agg(x.indexdef ORDER BY x.indexname), '{}') INTO index_definitions
  FROM pg_indexes x
  WHERE x.schemaname = (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'llm_tracker_usage'::regclass)
    AND x.tablename = 'llm_tracker_usage'
    AND x.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'llm_tracker_usage'::regclass AND contype = 'p');
  SELECT coalesce(array_agg(pg_get_triggerdef(t.oid) ORDER BY t.tgname), '{}') INTO trigger_definitions
  FROM pg_trigger t WHERE t.tgrelid = 'llm_tracker_usage'::regclass AND NOT t.tgisinternal;
  SELECT coalesce(array_agg(format('GRANT %s ON TABLE llm_tracker_usage TO %s', a.privilege_type,
                                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END)), '{}') INTO grants
  FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) AS a LEFT JOIN pg_roles r ON r.oid = a.grantee
  WHERE c.oid = 'llm_tracker_usage'::regclass AND a.grantee <> c.relowner;

  ALTER TABLE llm_tracker_usage RENAME TO llm_tracker_usage_unpartitioned;
  -- Same columns in the same order, defaults, NOT NULLs and checks; the keys come after the copy.
  CREATE TABLE llm_tracker_usage (LIKE llm_tracker_usage_unpartitioned INCLUDING ALL EXCLUDING INDEXES)
    PARTITION BY RANGE (created_at);
  CREATE TABLE llm_tracker_usage_default PARTITION OF llm_tracker_usage DEFAULT;
  -- One partition per day that has rows (a gap day gets one when a row needs it), then the days ahead.
  FOR d IN SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM llm_tracker_usage_unpartitioned ORDER BY 1 LOOP
    PERFORM llm_tracker_usage_create_partitions(d, d);
  END LOOP;
  PERFORM llm_tracker_usage_create_partitions_ahead(7);

  -- The rollup already counts these rows, and the new table has no triggers yet: the copy leaves it as it is.
  INSERT INTO llm_tracker_usage SELECT * FROM llm_tracker_usage_unpartitioned;
  DROP TABLE llm_tracker_usage_unpartitioned;

  ALTER TABLE llm_tracker_usage ADD CONSTRAINT llm_tracker_usage_pkey PRIMARY KEY (created_at, id);
  FOREACH definition IN ARRAY index_definitions LOOP EXECUTE definition; END LOOP;
  -- The rollup's statement-level triggers with transition tables are allowed on
  -- a partitioned table (not on its partitions) and see the rows of every
  -- partition a statement touches, so the rollup stays exact unchanged.
  FOREACH definition IN ARRAY trigger_definitions LOOP EXECUTE definition; END LOOP;
  FOREACH definition IN ARRAY grants LOOP EXECUTE definition; END LOOP;
END;
$convert$;
