-- 017: the live path's writes cost PostgreSQL less CPU, which on a machine it shares
-- with the broker and pmhcd is taken from the calls on their way (docs/benchmarks.md).
-- A perf profile of pmhcd's connection at 1,000 calls/s, 20 batches a second:
--   * 10% of its CPU was definition(): a SQL function with subqueries is never
--     inlined, and its body is parsed and planned again in every transaction. In
--     PL/pgSQL its plan is kept for the session.
--   * 10% was truncating calls_derived's temporary table at every commit (ON COMMIT
--     DELETE ROWS, which scans every local buffer). The trigger already empties it
--     after use; the table is now made without that clause, under a new name (a
--     session made before this migration drops its old one), and one of that name
--     the function's owner did not make is refused.
-- Same results (tests: report, analyst, live_copy, backfill); hijack.sh plants a table.

-- Its names are qualified, and its operators too: it runs under its caller's
-- search_path, which a SET here would make a cost of every call.
CREATE OR REPLACE FUNCTION pmhc.definition(p_psap text, p_key text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(
        (SELECT d.value FROM pmhc.definitions d
          WHERE d.psap_id OPERATOR(pg_catalog.=) p_psap AND d.key OPERATOR(pg_catalog.=) p_key),
        (SELECT d.value FROM pmhc.definitions d
          WHERE d.psap_id OPERATOR(pg_catalog.=) '*' AND d.key OPERATOR(pg_catalog.=) p_key));
END $$;

CREATE OR REPLACE FUNCTION pmhc.calls_derived() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    touched jsonb;
    cached text;
    changed regclass;
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
    -- Emptied after each use, not at commit: ON COMMIT DELETE ROWS truncated it at every
    -- commit, a tenth of the server's CPU on the live path. No autovacuum reaches a
    -- temporary table, so the pages its deleted rows leave are given back now and then.
    -- Looked up first: CREATE ... IF NOT EXISTS sends a notice to the client each time.
    -- The writer's session may make tables in its pg_temp too: one of that name that this
    -- function's owner did not make (a trigger on it would run with the owner's rights)
    -- is refused.
    changed := to_regclass('pg_temp.pmhc_changed_rows');
    IF changed IS NULL THEN
        -- A session older than this migration made its table under the old name, with
        -- the clause that truncates it at every commit: gone with its first statement.
        IF (SELECT pg_get_userbyid(c.relowner) = current_user FROM pg_class c
             WHERE c.oid = to_regclass('pg_temp.pmhc_changed_calls')) THEN
            DROP TABLE pg_temp.pmhc_changed_calls;
        END IF;
        CREATE TEMP TABLE pmhc_changed_rows
            (psap_id text, received_at timestamptz, received_local timestamp, mental_health_call boolean,
             subject_hash bytea, sign int);
    ELSIF (SELECT pg_get_userbyid(c.relowner) <> current_user OR c.relkind <> 'r'
             FROM pg_class c WHERE c.oid = changed) THEN
        RAISE EXCEPTION 'pg_temp.pmhc_changed_rows was not made by this trigger'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'drop that temporary table: the calls trigger keeps its own under that name';
    ELSIF pg_relation_size(changed) > 1048576 THEN
        TRUNCATE pg_temp.pmhc_changed_rows;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO pg_temp.pmhc_changed_rows
        SELECT psap_id, received_at, received_local, mental_health_call, subject_hash, 1 FROM new_calls;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO pg_temp.pmhc_changed_rows
        SELECT psap_id, received_at, received_local, mental_health_call, subject_hash, -1 FROM old_calls;
    END IF;
    -- In key order, so that two writers lock the summary's rows in the same order.
    INSERT INTO pmhc.calls_by_local_hour AS h (psap_id, local_hour, calls, mh_calls)
    SELECT psap_id, date_trunc('hour', received_local), sum(sign), coalesce(sum(sign) FILTER (WHERE mental_health_call), 0)
      FROM pg_temp.pmhc_changed_rows GROUP BY 1, 2
    HAVING sum(sign) <> 0 OR coalesce(sum(sign) FILTER (WHERE mental_health_call), 0) <> 0
     ORDER BY 1, 2
    ON CONFLICT (psap_id, local_hour) DO UPDATE
       SET calls = h.calls + excluded.calls, mh_calls = h.mh_calls + excluded.mh_calls;
    SELECT jsonb_agg(s) INTO touched FROM (
        SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
          FROM pg_temp.pmhc_changed_rows WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s;
    DELETE FROM pg_temp.pmhc_changed_rows;
    IF touched IS NOT NULL THEN
        PERFORM pmhc.refresh_repeats(touched);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION pmhc.calls_derived() IS
    'Keeps pmhc.calls_by_local_hour and the repeat-encounter flags current after calls are inserted, updated or deleted; with pmhc.deferred on, notes what changed for pmhc.finish_backfill() instead; refuses a statement whose local times are not the PSAP''s.';
