-- 014: backfill leaves the derived values of pmhc.calls to one pass at its end.
-- Migration 009's statement trigger keeps the hourly summary and the repeat flags
-- current after every statement that writes calls. For a live batch that is a few
-- subjects and a few hours. For history it cost most of the backfill's time: a batch
-- of history touches nearly every frequent subject over nearly all of the history,
-- so each batch recomputed the flags of their every call again, and the hours it
-- touched were merged into the summary row by row (docs/benchmarks.md).
--
-- A session that sets pmhc.deferred to on (pmhcd --backfill's connection does) now
-- gets, per statement, only a note of what it changed: each MH subject with the span
-- of its calls, and each PSAP with the span of its local hours. pmhc.finish_backfill()
-- then recomputes what the notes name in one set-based pass, and pmhcd --backfill
-- runs it before it exits. The result is what the per-statement triggers give.
--
-- Who can defer what: pmhc.deferred is a plain setting that any session may set, and
-- it changes only what writes to pmhc.calls do; only pmhc_writer writes there. The
-- notes are written by the trigger as the owner and kept until a pass consumes them,
-- in the writer's own transaction: a backfill killed half-way leaves notes for every
-- row it committed, and the next pmhcd --backfill's pass covers them. Deferring never
-- drops the upkeep, it postpones it; finish_backfill is the writer's alone to run.

CREATE TABLE pmhc.deferred_subjects (
    psap_id      text        NOT NULL,
    subject_hash bytea       NOT NULL,
    lo           timestamptz NOT NULL,
    hi           timestamptz NOT NULL
);
COMMENT ON TABLE pmhc.deferred_subjects IS
    'Internal: subjects whose repeat flags a deferred write left for pmhc.finish_backfill(), one row per statement and subject (no key: appended cheaply, read whole).';
COMMENT ON COLUMN pmhc.deferred_subjects.psap_id IS 'The PSAP.';
COMMENT ON COLUMN pmhc.deferred_subjects.subject_hash IS 'The subject whose MH calls were written.';
COMMENT ON COLUMN pmhc.deferred_subjects.lo IS 'The earliest received_at of those calls.';
COMMENT ON COLUMN pmhc.deferred_subjects.hi IS 'The latest received_at of those calls.';

CREATE TABLE pmhc.deferred_hours (
    psap_id text      NOT NULL,
    lo      timestamp NOT NULL,
    hi      timestamp NOT NULL
);
COMMENT ON TABLE pmhc.deferred_hours IS
    'Internal: spans of local time whose rows of pmhc.calls_by_local_hour a deferred write left for pmhc.finish_backfill(), one row per statement and PSAP.';
COMMENT ON COLUMN pmhc.deferred_hours.psap_id IS 'The PSAP.';
COMMENT ON COLUMN pmhc.deferred_hours.lo IS 'The earliest received_local of the calls written (or moved away from).';
COMMENT ON COLUMN pmhc.deferred_hours.hi IS 'The latest received_local of the calls written (or moved away from).';

CREATE TABLE pmhc.backfill_passes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    subjects      bigint      NOT NULL DEFAULT 0,
    calls_changed bigint      NOT NULL DEFAULT 0,
    hours         bigint      NOT NULL DEFAULT 0
);
COMMENT ON TABLE pmhc.backfill_passes IS
    'Each pass of pmhc.finish_backfill() that had notes to consume: when, and how much it recomputed.';
COMMENT ON COLUMN pmhc.backfill_passes.id IS 'The pass, in order.';
COMMENT ON COLUMN pmhc.backfill_passes.finished_at IS 'When the pass''s transaction started.';
COMMENT ON COLUMN pmhc.backfill_passes.subjects IS 'Subjects whose repeat flags were recomputed.';
COMMENT ON COLUMN pmhc.backfill_passes.calls_changed IS 'Calls whose repeat flag changed.';
COMMENT ON COLUMN pmhc.backfill_passes.hours IS 'Rows of pmhc.calls_by_local_hour written.';

-- 009's function with the deferred branch added in front; the rest is unchanged, so
-- the live path keeps its per-statement upkeep exactly.
CREATE OR REPLACE FUNCTION pmhc.calls_derived() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    touched jsonb;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
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
    'Keeps pmhc.calls_by_local_hour and the repeat-encounter flags current after calls are inserted, updated or deleted; with pmhc.deferred on, notes what changed for pmhc.finish_backfill() instead.';

-- The pass runs as a row trigger on pmhc.backfill_passes, so that its own updates of
-- pmhc.calls fire calls_derived one level down, where it does nothing (as for 009's
-- refresh): nothing a session can set makes the upkeep skip a write.
CREATE FUNCTION pmhc.backfill_pass() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    touched jsonb;
    spans jsonb;
    r record;
    m bigint;
BEGIN
    -- The notes committed by now; a writer still running keeps its own for its own pass.
    WITH d AS (DELETE FROM pmhc.deferred_subjects RETURNING psap_id, subject_hash, lo, hi)
    SELECT jsonb_agg(s), count(*) INTO touched, NEW.subjects FROM (
        SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(lo) AS lo, max(hi) AS hi
          FROM d GROUP BY 1, 2) s;
    IF touched IS NOT NULL THEN
        NEW.calls_changed := pmhc.refresh_repeats(touched);
    END IF;
    -- The hours last, under a lock that live writers' summary updates wait for: what
    -- this pass counts from pmhc.calls then holds every live write whose summary
    -- update is done, and none whose update comes after. Held only for this part.
    LOCK TABLE pmhc.calls_by_local_hour IN SHARE ROW EXCLUSIVE MODE;
    WITH d AS (DELETE FROM pmhc.deferred_hours RETURNING psap_id, lo, hi)
    SELECT jsonb_agg(s) INTO spans FROM (
        SELECT psap_id, date_trunc('hour', min(lo)) AS lo, date_trunc('hour', max(hi)) AS hi
          FROM d GROUP BY 1 ORDER BY 1) s;
    FOR r IN SELECT x.psap_id, x.lo, x.hi FROM jsonb_to_recordset(coalesce(spans, '[]')) AS x(psap_id text, lo timestamp, hi timestamp)
    LOOP
        -- Each hour of the span counted afresh; an hour left without calls keeps its row at zero, as
        -- the triggers' subtractions leave it.
        WITH fresh AS (
            SELECT date_trunc('hour', received_local) AS local_hour, count(*) AS calls,
                   count(*) FILTER (WHERE mental_health_call) AS mh_calls
              FROM pmhc.calls
             WHERE psap_id = r.psap_id AND received_local >= r.lo AND received_local < r.hi + interval '1 hour'
             GROUP BY 1
        ), emptied AS (
            UPDATE pmhc.calls_by_local_hour h SET calls = 0, mh_calls = 0
             WHERE h.psap_id = r.psap_id AND h.local_hour >= r.lo AND h.local_hour <= r.hi
               AND (h.calls <> 0 OR h.mh_calls <> 0)
               AND NOT EXISTS (SELECT FROM fresh f WHERE f.local_hour = h.local_hour)
        )
        INSERT INTO pmhc.calls_by_local_hour AS h (psap_id, local_hour, calls, mh_calls)
        SELECT r.psap_id, local_hour, calls, mh_calls FROM fresh ORDER BY 2
        ON CONFLICT (psap_id, local_hour) DO UPDATE SET calls = excluded.calls, mh_calls = excluded.mh_calls
         WHERE (h.calls, h.mh_calls) IS DISTINCT FROM (excluded.calls, excluded.mh_calls);
        GET DIAGNOSTICS m = ROW_COUNT;
        NEW.hours := NEW.hours + m;
    END LOOP;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION pmhc.backfill_pass() IS
    'Consumes the notes of deferred writes: recomputes the repeat flags of the subjects noted and the hourly summary over the spans noted.';
REVOKE ALL ON FUNCTION pmhc.backfill_pass() FROM PUBLIC;
CREATE TRIGGER backfill_pass BEFORE INSERT ON pmhc.backfill_passes
    FOR EACH ROW EXECUTE FUNCTION pmhc.backfill_pass();

CREATE FUNCTION pmhc.finish_backfill(OUT subjects bigint, OUT calls_changed bigint, OUT hours bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
BEGIN
    subjects := 0;
    calls_changed := 0;
    hours := 0;
    IF EXISTS (SELECT FROM pmhc.deferred_subjects) OR EXISTS (SELECT FROM pmhc.deferred_hours) THEN
        INSERT INTO pmhc.backfill_passes AS p DEFAULT VALUES
        RETURNING p.subjects, p.calls_changed, p.hours INTO subjects, calls_changed, hours;
    END IF;
END $$;
COMMENT ON FUNCTION pmhc.finish_backfill() IS
    'The pass at the end of a backfill: brings the repeat flags and the hourly summary of every deferred write current (nothing to do: zeros).';
REVOKE ALL ON FUNCTION pmhc.finish_backfill() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pmhc.finish_backfill() TO pmhc_writer;
