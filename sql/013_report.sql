-- 013: the analyst views at ten years of history (issue 18). Measured on a metro
-- center's generated history (bench/report.sh, docs/benchmarks.md), two costs set
-- every view's time, and both grew with all of a PSAP's history on every query:
--   * the local time of a call was computed in the view, so a filter on a month,
--     week or day could use no index: every query read the PSAP's every call;
--   * the repeat-encounter flag was a correlated count over the subject's calls,
--     run for every MH call on every query.
-- Both are now stored on pmhc.calls and kept current where they change: as calls
-- are written (a row trigger for the local time, a statement trigger for the
-- repeat flags of the subjects a statement touched), and when a definition they
-- depend on changes (time_zone, repeat_threshold, repeat_window_days). The views
-- keep their columns and meaning; pmhc.call_facts reads the stored values, and
-- indexes on the local month, week and day let a period's query read that period.

ALTER TABLE pmhc.calls
    ADD COLUMN received_local timestamp,
    ADD COLUMN repeat_encounter boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pmhc.calls.received_local IS
    'received_at in the PSAP''s time zone (pmhc.definitions), kept current by triggers: when the call is written and when the time zone changes.';
COMMENT ON COLUMN pmhc.calls.repeat_encounter IS
    'An MH call whose subject had at least repeat_threshold - 1 other MH calls in the repeat_window_days x 24 h before it; kept current by triggers as calls arrive and when those definitions change.';

-- A definition in force for a PSAP: its own value, else the default. Two key lookups,
-- cheap enough for a row trigger (pmhc.effective_definitions aggregates the table).
CREATE FUNCTION pmhc.definition(p_psap text, p_key text) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT value FROM pmhc.definitions WHERE psap_id = p_psap AND key = p_key),
                    (SELECT value FROM pmhc.definitions WHERE psap_id = '*' AND key = p_key))
$$;
COMMENT ON FUNCTION pmhc.definition(text, text) IS 'The value of a definition in force for a PSAP: its own, else the default (''*'').';

CREATE FUNCTION pmhc.calls_local() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.received_local := NEW.received_at AT TIME ZONE pmhc.definition(NEW.psap_id, 'time_zone');
    IF NOT NEW.mental_health_call OR NEW.subject_hash IS NULL THEN
        NEW.repeat_encounter := false;
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION pmhc.calls_local() IS 'Sets a call''s local time as it is written; a call that cannot be a repeat encounter is not one.';
CREATE TRIGGER calls_local BEFORE INSERT OR UPDATE ON pmhc.calls
    FOR EACH ROW EXECUTE FUNCTION pmhc.calls_local();

-- The repeat flags of the MH calls of the given subjects between lo and hi (hi plus
-- the window: a call counts for the calls after it), recomputed as the definition
-- says. touched: (psap_id, subject_hash, lo, hi). Returns the calls changed.
CREATE FUNCTION pmhc.refresh_repeats(touched jsonb) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc AS $$
DECLARE
    n bigint;
BEGIN
    WITH t AS (
        SELECT x.psap_id, decode(x.subject, 'hex') AS subject_hash, x.lo, x.hi,
               pmhc.definition(x.psap_id, 'repeat_threshold')::int AS threshold,
               make_interval(hours => 24 * pmhc.definition(x.psap_id, 'repeat_window_days')::int) AS win
          FROM jsonb_to_recordset(touched) AS x(psap_id text, subject text, lo timestamptz, hi timestamptz)
    ), flags AS (
        SELECT c.psap_id, c.call_id,
               (SELECT count(*) FROM pmhc.calls p
                 WHERE p.psap_id = c.psap_id AND p.subject_hash = c.subject_hash AND p.mental_health_call
                   AND p.received_at >= c.received_at - t.win AND p.received_at < c.received_at)
               >= t.threshold - 1 AS flag
          FROM t JOIN pmhc.calls c ON c.subject_hash = t.subject_hash AND c.psap_id = t.psap_id
         WHERE c.mental_health_call AND c.received_at >= t.lo AND c.received_at <= t.hi + t.win
    )
    UPDATE pmhc.calls c SET repeat_encounter = f.flag
      FROM flags f
     WHERE c.psap_id = f.psap_id AND c.call_id = f.call_id AND c.repeat_encounter IS DISTINCT FROM f.flag;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
COMMENT ON FUNCTION pmhc.refresh_repeats(jsonb) IS
    'Recomputes the repeat-encounter flags of the MH calls of some subjects over a time range (JSON array of {psap_id, subject (hex), lo, hi}).';
REVOKE ALL ON FUNCTION pmhc.refresh_repeats(jsonb) FROM PUBLIC;

-- After a statement wrote calls: the subjects it touched (before and after, for an
-- update that moved a call or changed its subject), each over the span of its calls.
-- The flags the refresh itself writes fire this again; the depth check stops there.
CREATE FUNCTION pmhc.calls_repeats() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc AS $$
DECLARE
    touched jsonb;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(s) INTO touched FROM (
            SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
              FROM new_calls WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s;
    ELSE
        SELECT jsonb_agg(s) INTO touched FROM (
            SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
              FROM (SELECT psap_id, subject_hash, received_at, mental_health_call FROM old_calls
                    UNION ALL
                    SELECT psap_id, subject_hash, received_at, mental_health_call FROM new_calls) u
             WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM pmhc.refresh_repeats(touched);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION pmhc.calls_repeats() IS 'Keeps the repeat-encounter flags current after calls are inserted or updated.';
CREATE TRIGGER calls_repeats_insert AFTER INSERT ON pmhc.calls
    REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.calls_repeats();
CREATE TRIGGER calls_repeats_update AFTER UPDATE ON pmhc.calls
    REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.calls_repeats();

-- A definition that stored values depend on changed: recompute them for the PSAPs it
-- applies to (its own PSAP, or, for a default, every PSAP without its own value).
-- Rare and deliberate (a center sets its time zone once); on years of history it
-- takes as long as rewriting those calls.
CREATE FUNCTION pmhc.definitions_refresh() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc AS $$
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
    FOR r IN
        SELECT DISTINCT c.psap_id FROM pmhc.calls c
         WHERE (p <> '*' AND c.psap_id = p)
            OR (p = '*' AND NOT EXISTS (SELECT FROM pmhc.definitions d WHERE d.psap_id = c.psap_id AND d.key = k))
    LOOP
        IF k = 'time_zone' THEN
            UPDATE pmhc.calls SET received_local = received_at AT TIME ZONE pmhc.definition(r.psap_id, 'time_zone')
             WHERE psap_id = r.psap_id;
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
CREATE TRIGGER definitions_refresh AFTER INSERT OR UPDATE OR DELETE ON pmhc.definitions
    FOR EACH ROW EXECUTE FUNCTION pmhc.definitions_refresh();

-- Calls stored before this migration.
UPDATE pmhc.calls SET received_local = received_at AT TIME ZONE pmhc.definition(psap_id, 'time_zone');
SELECT pmhc.refresh_repeats(jsonb_agg(s)) FROM (
    SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
      FROM pmhc.calls WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s HAVING count(*) > 0;
ALTER TABLE pmhc.calls ALTER COLUMN received_local SET NOT NULL;

-- The views read the stored values: same columns, same meaning.
CREATE OR REPLACE VIEW pmhc.call_facts AS
SELECT c.psap_id, c.call_id, c.revision, c.received_at,
       c.received_local,
       c.source, c.nature_code_mapped, c.flags, c.mental_health_call, c.rule_id, c.response,
       c.dispatch_code, c.unit_ids, c.fallback_used, c.beat, c.district, c.backfilled, c.subject_hash,
       d.code AS disposition_code, d.closed_at, d.unit_ids AS units_went,
       coalesce(d.service_unavailable, false) AS service_unavailable, d.service_name,
       coalesce(d.code NOT IN ('CANCELLED', 'NO_CONTACT'), false) AS outcome_counted,
       coalesce(d.connected_to_services
                OR d.code IN ('REFERRED', 'TRANSPORTED_CRISIS_CENTER', 'TRANSFERRED_988'), false) AS connected,
       coalesce(d.arrest OR d.code = 'ARREST', false) AS arrested,
       coalesce(d.use_of_force, false) AS used_force,
       coalesce(d.code = 'INVOLUNTARY_HOLD', false) AS involuntary_hold,
       c.repeat_encounter,
       e.time_zone, e.baseline_start, e.baseline_end, e.current_start, e.current_end,
       e.small_cell_threshold
  FROM pmhc.calls c
  LEFT JOIN pmhc.dispositions d USING (psap_id, call_id)
  LEFT JOIN pmhc.effective_definitions own ON own.psap_id = c.psap_id
  CROSS JOIN LATERAL (
      SELECT coalesce(own.time_zone, dflt.time_zone) AS time_zone,
             coalesce(own.repeat_threshold, dflt.repeat_threshold) AS repeat_threshold,
             coalesce(own.repeat_window_days, dflt.repeat_window_days) AS repeat_window_days,
             coalesce(own.baseline_start, dflt.baseline_start) AS baseline_start,
             coalesce(own.baseline_end, dflt.baseline_end) AS baseline_end,
             coalesce(own.current_start, dflt.current_start) AS current_start,
             coalesce(own.current_end, dflt.current_end) AS current_end,
             coalesce(own.small_cell_threshold, dflt.small_cell_threshold) AS small_cell_threshold
        FROM pmhc.effective_definitions dflt WHERE dflt.psap_id = '*') e;

-- A period of months, weeks or days reads that period: the views' own expressions,
-- indexed. The MH ones are partial (most views read MH calls only) and cover what
-- the hour-and-weekday and volume views need, so those read the index alone.
CREATE INDEX calls_local_month_mh ON pmhc.calls (psap_id, (date_trunc('month', received_local)::date))
    WHERE mental_health_call;
CREATE INDEX calls_local_mh ON pmhc.calls (psap_id, received_local) WHERE mental_health_call;
CREATE INDEX calls_local_day ON pmhc.calls (psap_id, (received_local::date)) INCLUDE (mental_health_call);
CREATE INDEX calls_local_week ON pmhc.calls (psap_id, (date_trunc('week', received_local)::date)) INCLUDE (mental_health_call);
CREATE INDEX calls_local_month ON pmhc.calls (psap_id, (date_trunc('month', received_local)::date)) INCLUDE (mental_health_call);
-- The repeat refresh counts a subject's MH calls in a window within one PSAP.
CREATE INDEX calls_subject_mh ON pmhc.calls (psap_id, subject_hash, received_at)
    WHERE mental_health_call AND subject_hash IS NOT NULL;
