-- 016: backfill at the COPY ceiling's pace, measured at 1,000,000 calls
-- (docs/benchmarks.md). Of an 87 s backfill, 45 s were the final pass of 014, and
-- 5 s of the 41 s of writes the local-time row trigger:
--   * refresh_repeats counted each call's window with EXCLUDE GROUP, which makes
--     PostgreSQL recount the whole frame for every row: 15 s of window for 487,661
--     MH calls of 289 people. A frame that ends a microsecond before the call gives
--     the same number as a running count.
--   * The rest of the pass rewrote 486,899 repeat flags that history's rows
--     arrived without. pmhcd --backfill now writes a first guess at each flag in
--     its COPY (libpmhc/repeats.c), from the calls it has read so far; the pass
--     still recomputes every flag and rewrites only the wrong ones.
--   * calls_local looked up the PSAP's time zone for every row: two index scans in
--     a SQL function, about 4 us a row. It now keeps the zone of the last PSAP in a
--     setting local to the transaction, and the statement trigger checks the cache
--     against the definition after each statement: a stale or forged zone fails the
--     statement, to be retried. (A writer that sets the cache between rows of one
--     statement could still write a wrong local time, as it could a wrong
--     received_at: the writer role is trusted with the rows it writes.)
-- Same results: the flags and local times equal 009's (tests: backfill, report).

-- Its sort after a backfill holds every MH call of the subjects noted (40 MB for
-- 487,661 calls): in memory, not in temporary files. A live batch's is a few rows.
CREATE OR REPLACE FUNCTION pmhc.refresh_repeats(touched jsonb) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp SET work_mem = '64MB' AS $$
DECLARE
    n bigint := 0;
    m bigint;
    r record;
    threshold int;
    win interval;
BEGIN
    -- One PSAP at a time: its window is a constant of the query, as a window frame's
    -- offset must be. Each subject's calls are sorted once and every call's count of
    -- the calls in the window before it read off a frame that ends a microsecond (the
    -- resolution of timestamptz) before the call: the calls at its instant, itself
    -- among them, are left out. A running count, linear in a subject's calls; EXCLUDE
    -- GROUP gave the same number but recounted the whole frame for every call. Only the calls whose
    -- flag is wrong as read are joined back to the table: after a backfill that is a
    -- few of hundreds of thousands, which the planner, without statistics on the
    -- rows just written, joined one index probe at a time.
    FOR r IN SELECT DISTINCT x.psap_id FROM jsonb_to_recordset(touched) AS x(psap_id text) LOOP
        threshold := pmhc.definition(r.psap_id, 'repeat_threshold')::int;
        win := make_interval(hours => 24 * pmhc.definition(r.psap_id, 'repeat_window_days')::int);
        EXECUTE format($q$
            WITH t AS (
                SELECT decode(x.subject, 'hex') AS subject_hash, x.lo, x.hi
                  FROM jsonb_to_recordset($1) AS x(psap_id text, subject text, lo timestamptz, hi timestamptz)
                 WHERE x.psap_id = $2
            ), w AS (
                SELECT c.call_id, c.received_at, c.repeat_encounter AS stored, t.lo, t.hi,
                       count(*) OVER (PARTITION BY c.subject_hash ORDER BY c.received_at
                                      RANGE BETWEEN %1$L::interval PRECEDING AND '1 microsecond'::interval PRECEDING)
                         AS before
                  FROM t JOIN pmhc.calls c ON c.psap_id = $2 AND c.subject_hash = t.subject_hash
                 WHERE c.mental_health_call
                   AND c.received_at >= t.lo - %1$L::interval AND c.received_at <= t.hi + %1$L::interval
            )
            UPDATE pmhc.calls c SET repeat_encounter = (w.before >= $3 - 1)
              FROM w
             WHERE c.psap_id = $2 AND c.call_id = w.call_id AND w.received_at >= w.lo
               AND w.stored IS DISTINCT FROM (w.before >= $3 - 1)
               AND c.repeat_encounter IS DISTINCT FROM (w.before >= $3 - 1)
        $q$, win) USING touched, r.psap_id, threshold;
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION pmhc.refresh_repeats(jsonb) IS
    'Recomputes the repeat-encounter flags of the MH calls of some subjects over a time range (JSON array of {psap_id, subject (hex), lo, hi}).';

CREATE OR REPLACE FUNCTION pmhc.calls_local() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cached text := current_setting('pmhc.local_zone', true);
    zone text;
BEGIN
    -- "psap_id<US>zone" of the last call this transaction wrote: a backfill's batch is
    -- one PSAP's thousands of calls. Transaction-local; a zone another session changes
    -- meanwhile fails the statement at calls_derived's check, and the retry reads it.
    -- A zone name has no unit separator (definitions_check), so the prefix is exact.
    IF left(cached, length(NEW.psap_id) + 1) = NEW.psap_id || E'\x1f' THEN
        zone := substr(cached, length(NEW.psap_id) + 2);
    ELSE
        zone := pmhc.definition(NEW.psap_id, 'time_zone');
        IF zone IS NOT NULL THEN
            PERFORM set_config('pmhc.local_zone', NEW.psap_id || E'\x1f' || zone, true);
        END IF;
    END IF;
    NEW.received_local := NEW.received_at AT TIME ZONE zone;
    IF NOT NEW.mental_health_call OR NEW.subject_hash IS NULL THEN
        NEW.repeat_encounter := false;
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION pmhc.calls_local() IS 'Sets a call''s local time as it is written; a call that cannot be a repeat encounter is not one.';

CREATE OR REPLACE FUNCTION pmhc.definitions_refresh() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    r record;
    k text;
    p text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        k := OLD.key;
        p := OLD.psap_id;
    ELSE
        k := NEW.key;
        p := NEW.psap_id;
    END IF;
    IF k NOT IN ('time_zone', 'repeat_threshold', 'repeat_window_days')
       OR (TG_OP = 'UPDATE' AND NEW.value = OLD.value AND NEW.psap_id = OLD.psap_id) THEN
        RETURN NULL;
    END IF;
    -- The local-time trigger's cache may hold the old zone in this transaction.
    PERFORM set_config('pmhc.local_zone', '', true);
    FOR r IN
        SELECT DISTINCT c.psap_id FROM pmhc.calls c
         WHERE (p <> '*' AND c.psap_id = p)
            OR (p = '*' AND NOT EXISTS (SELECT FROM pmhc.definitions d WHERE d.psap_id = c.psap_id AND d.key = k))
    LOOP
        IF k = 'time_zone' THEN
            UPDATE pmhc.calls SET received_local = received_at AT TIME ZONE pmhc.definition(r.psap_id, 'time_zone')
             WHERE psap_id = r.psap_id;
            DELETE FROM pmhc.calls_by_local_hour WHERE psap_id = r.psap_id;
            INSERT INTO pmhc.calls_by_local_hour (psap_id, local_hour, calls, mh_calls)
            SELECT psap_id, date_trunc('hour', received_local), count(*), count(*) FILTER (WHERE mental_health_call)
              FROM pmhc.calls WHERE psap_id = r.psap_id GROUP BY 1, 2;
        ELSE
            PERFORM pmhc.refresh_repeats(jsonb_agg(s)) FROM (
                SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
                  FROM pmhc.calls WHERE psap_id = r.psap_id AND mental_health_call AND subject_hash IS NOT NULL
                 GROUP BY 1, 2) s HAVING count(*) > 0;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION pmhc.definitions_refresh() IS
    'Recomputes the stored local times or repeat flags of the PSAPs a changed time_zone, repeat_threshold or repeat_window_days applies to.';

CREATE OR REPLACE FUNCTION pmhc.calls_derived() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    touched jsonb;
    cached text;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    -- calls_local takes the time zone from a cache of the transaction, which misses a
    -- zone another session changed since, and which a session could set itself: the
    -- zone it holds after the statement is checked against the definition. A mismatch
    -- fails the statement as a serialization failure, which a writer retries in a new
    -- transaction (pmhcd does), where the cache starts empty. Checking every row
    -- instead cost a backfill 3 s a million.
    cached := current_setting('pmhc.local_zone', true);
    IF TG_OP IN ('INSERT', 'UPDATE') AND cached <> '' AND split_part(cached, E'\x1f', -1) IS DISTINCT FROM
       pmhc.definition(left(cached, length(cached) - length(split_part(cached, E'\x1f', -1)) - 1), 'time_zone') THEN
        RAISE EXCEPTION 'the time zone cached for the local times of this transaction is not the PSAP''s'
            USING ERRCODE = 'serialization_failure',
                  HINT = 'retry the transaction; pmhc.local_zone is the local-time trigger''s own cache: leave it unset';
    END IF;
    IF current_setting('pmhc.deferred', true) = 'on' THEN
        -- A few rows per statement (one per subject and one per PSAP), no index: the
        -- pass reads them whole. An update notes where its calls were and are.
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO pmhc.deferred_subjects
            SELECT psap_id, subject_hash, min(received_at), max(received_at) FROM new_calls
             WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2;
            INSERT INTO pmhc.deferred_hours
            SELECT psap_id, min(received_local), max(received_local) FROM new_calls GROUP BY 1;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO pmhc.deferred_subjects
            SELECT psap_id, subject_hash, min(received_at), max(received_at) FROM old_calls
             WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2;
            INSERT INTO pmhc.deferred_hours
            SELECT psap_id, min(received_local), max(received_local) FROM old_calls GROUP BY 1;
        END IF;
        RETURN NULL;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS pmhc_changed_calls
        (psap_id text, received_at timestamptz, received_local timestamp, mental_health_call boolean,
         subject_hash bytea, sign int) ON COMMIT DELETE ROWS;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO pmhc_changed_calls
        SELECT psap_id, received_at, received_local, mental_health_call, subject_hash, 1 FROM new_calls;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO pmhc_changed_calls
        SELECT psap_id, received_at, received_local, mental_health_call, subject_hash, -1 FROM old_calls;
    END IF;
    -- In key order, so that two writers lock the summary's rows in the same order.
    INSERT INTO pmhc.calls_by_local_hour AS h (psap_id, local_hour, calls, mh_calls)
    SELECT psap_id, date_trunc('hour', received_local), sum(sign), coalesce(sum(sign) FILTER (WHERE mental_health_call), 0)
      FROM pmhc_changed_calls GROUP BY 1, 2
    HAVING sum(sign) <> 0 OR coalesce(sum(sign) FILTER (WHERE mental_health_call), 0) <> 0
     ORDER BY 1, 2
    ON CONFLICT (psap_id, local_hour) DO UPDATE
       SET calls = h.calls + excluded.calls, mh_calls = h.mh_calls + excluded.mh_calls;
    SELECT jsonb_agg(s) INTO touched FROM (
        SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
          FROM pmhc_changed_calls WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s;
    DELETE FROM pmhc_changed_calls;
    IF touched IS NOT NULL THEN
        PERFORM pmhc.refresh_repeats(touched);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION pmhc.calls_derived() IS
    'Keeps pmhc.calls_by_local_hour and the repeat-encounter flags current after calls are inserted, updated or deleted; with pmhc.deferred on, notes what changed for pmhc.finish_backfill() instead; refuses a statement whose local times are not the PSAP''s.';
