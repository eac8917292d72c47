-- 009: the analyst views at ten years of history (issue 18). Measured on a metro
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
-- keep their columns and meaning; pmhc.call_facts reads the stored values, an index
-- on the local month lets a period's query read that period, and the views of
-- volume (all calls by day, week, month; MH calls by hour and weekday over all
-- time) read a summary of calls per local hour kept by the same statement trigger.

ALTER TABLE pmhc.calls
    ADD COLUMN received_local timestamp,
    ADD COLUMN repeat_encounter boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pmhc.calls.received_local IS
    'received_at in the PSAP''s time zone (pmhc.definitions), kept current by triggers: when the call is written and when the time zone changes.';
COMMENT ON COLUMN pmhc.calls.repeat_encounter IS
    'An MH call whose subject had at least repeat_threshold - 1 other MH calls in the repeat_window_days x 24 h before it; kept current by triggers as calls arrive and when those definitions change.';

-- Calls per PSAP and local hour: the volume views read these few rows (24 a day)
-- instead of every call. The statement trigger below adds what each statement
-- inserts and moves what it updates; a time-zone change rebuilds a PSAP's rows.
CREATE TABLE pmhc.calls_by_local_hour (
    psap_id    text      NOT NULL,
    local_hour timestamp NOT NULL,
    calls      bigint    NOT NULL,
    mh_calls   bigint    NOT NULL,
    PRIMARY KEY (psap_id, local_hour)
);
COMMENT ON TABLE pmhc.calls_by_local_hour IS
    'Internal summary: calls and MH calls per PSAP and local hour, kept current by triggers on pmhc.calls and pmhc.definitions; the volume views read it.';
COMMENT ON COLUMN pmhc.calls_by_local_hour.psap_id IS 'The answering point.';
COMMENT ON COLUMN pmhc.calls_by_local_hour.local_hour IS 'The local hour (received_local truncated to the hour).';
COMMENT ON COLUMN pmhc.calls_by_local_hour.calls IS 'Calls received in the hour.';
COMMENT ON COLUMN pmhc.calls_by_local_hour.mh_calls IS 'Of those, mental-health calls.';

-- A definition in force for a PSAP: its own value, else the default. Two key lookups,
-- cheap enough for a row trigger (pmhc.effective_definitions aggregates the table).
-- A standard SQL body: its names are resolved here, under the migration's pinned
-- search_path, not in the session of whoever calls it.
CREATE FUNCTION pmhc.definition(p_psap text, p_key text) RETURNS text
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce((SELECT value FROM pmhc.definitions WHERE psap_id = p_psap AND key = p_key),
                    (SELECT value FROM pmhc.definitions WHERE psap_id = '*' AND key = p_key));
END;
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
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    n bigint := 0;
    m bigint;
    r record;
    threshold int;
    win interval;
BEGIN
    -- One PSAP at a time: its window is a constant of the query, as a window frame's
    -- offset must be. Each subject's calls are sorted once and every call's count of
    -- the calls in the window before it read off the frame (EXCLUDE GROUP leaves out
    -- the call itself and any at the same instant): linear in a subject's calls,
    -- where a count per call was quadratic for a person with thousands of calls.
    FOR r IN SELECT DISTINCT x.psap_id FROM jsonb_to_recordset(touched) AS x(psap_id text) LOOP
        threshold := pmhc.definition(r.psap_id, 'repeat_threshold')::int;
        win := make_interval(hours => 24 * pmhc.definition(r.psap_id, 'repeat_window_days')::int);
        EXECUTE format($q$
            WITH t AS (
                SELECT decode(x.subject, 'hex') AS subject_hash, x.lo, x.hi
                  FROM jsonb_to_recordset($1) AS x(psap_id text, subject text, lo timestamptz, hi timestamptz)
                 WHERE x.psap_id = $2
            ), w AS (
                SELECT c.call_id, c.received_at, t.lo, t.hi,
                       count(*) OVER (PARTITION BY c.subject_hash ORDER BY c.received_at
                                      RANGE BETWEEN %1$L::interval PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS before
                  FROM t JOIN pmhc.calls c ON c.psap_id = $2 AND c.subject_hash = t.subject_hash
                 WHERE c.mental_health_call
                   AND c.received_at >= t.lo - %1$L::interval AND c.received_at <= t.hi + %1$L::interval
            )
            UPDATE pmhc.calls c SET repeat_encounter = (w.before >= $3 - 1)
              FROM w
             WHERE c.psap_id = $2 AND c.call_id = w.call_id AND w.received_at >= w.lo
               AND c.repeat_encounter IS DISTINCT FROM (w.before >= $3 - 1)
        $q$, win) USING touched, r.psap_id, threshold;
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION pmhc.refresh_repeats(jsonb) IS
    'Recomputes the repeat-encounter flags of the MH calls of some subjects over a time range (JSON array of {psap_id, subject (hex), lo, hi}).';
REVOKE ALL ON FUNCTION pmhc.refresh_repeats(jsonb) FROM PUBLIC;

-- After a statement wrote calls: the hour summary takes what it added and removed,
-- and the subjects it touched (before and after, for an update that moved a call or
-- changed its subject) have their repeat flags recomputed over the span of their
-- calls. The refreshes' own updates fire this again one level down, where nothing
-- is left to do (they change neither hours nor, once done, flags): the depth check
-- stops there.
CREATE FUNCTION pmhc.calls_derived() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pmhc, pg_temp AS $$
DECLARE
    touched jsonb;
BEGIN
    IF pg_trigger_depth() > 1 THEN
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
    'Keeps pmhc.calls_by_local_hour and the repeat-encounter flags current after calls are inserted, updated or deleted.';
CREATE TRIGGER calls_derived_insert AFTER INSERT ON pmhc.calls
    REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.calls_derived();
CREATE TRIGGER calls_derived_update AFTER UPDATE ON pmhc.calls
    REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.calls_derived();
CREATE TRIGGER calls_derived_delete AFTER DELETE ON pmhc.calls
    REFERENCING OLD TABLE AS old_calls FOR EACH STATEMENT EXECUTE FUNCTION pmhc.calls_derived();

-- A definition that stored values depend on changed: recompute them for the PSAPs it
-- applies to (its own PSAP, or, for a default, every PSAP without its own value).
-- Rare and deliberate (a center sets its time zone once); on years of history it
-- takes as long as rewriting those calls.
CREATE FUNCTION pmhc.definitions_refresh() RETURNS trigger
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
CREATE TRIGGER definitions_refresh AFTER INSERT OR UPDATE OR DELETE ON pmhc.definitions
    FOR EACH ROW EXECUTE FUNCTION pmhc.definitions_refresh();

-- Calls stored before this migration: their local times, flags and hours, in one
-- pass each (the statement trigger would do the same work again for the update).
CREATE INDEX calls_subject_mh ON pmhc.calls (psap_id, subject_hash, received_at)
    WHERE mental_health_call AND subject_hash IS NOT NULL;
ALTER TABLE pmhc.calls DISABLE TRIGGER calls_derived_update;
UPDATE pmhc.calls SET received_local = received_at AT TIME ZONE pmhc.definition(psap_id, 'time_zone');
ALTER TABLE pmhc.calls ENABLE TRIGGER calls_derived_update;
ALTER TABLE pmhc.calls ALTER COLUMN received_local SET NOT NULL;
INSERT INTO pmhc.calls_by_local_hour (psap_id, local_hour, calls, mh_calls)
SELECT psap_id, date_trunc('hour', received_local), count(*), count(*) FILTER (WHERE mental_health_call)
  FROM pmhc.calls GROUP BY 1, 2;
SELECT pmhc.refresh_repeats(jsonb_agg(s)) FROM (
    SELECT psap_id, encode(subject_hash, 'hex') AS subject, min(received_at) AS lo, max(received_at) AS hi
      FROM pmhc.calls WHERE mental_health_call AND subject_hash IS NOT NULL GROUP BY 1, 2) s HAVING count(*) > 0;

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
       e.small_cell_threshold,
       c.answers, c.call_taker_hash
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

-- A period of months reads that period: the views' own expression, indexed, for MH
-- calls (what the outcome views read); and the range of local times, for the
-- per-call view and the baseline and current periods.
-- Both carry what the outcome views read of a call besides its disposition, so that
-- after a vacuum they read no table pages for it (index-only).
CREATE INDEX calls_local_month_mh ON pmhc.calls (psap_id, (date_trunc('month', received_local)::date))
    INCLUDE (call_id, subject_hash, repeat_encounter) WHERE mental_health_call;
CREATE INDEX calls_local_mh ON pmhc.calls (psap_id, received_local)
    INCLUDE (call_id, subject_hash, repeat_encounter) WHERE mental_health_call;
-- Live decisions only (recommended_vs_disposition, fallbacks_by_hour_beat), and codes
-- to map (unknown_nature_codes): small parts of the table, read without the rest.
CREATE INDEX calls_live_mh ON pmhc.calls (psap_id) WHERE mental_health_call AND NOT backfilled;
CREATE INDEX calls_unknown_nature ON pmhc.calls (psap_id, received_at)
    WHERE nature_known = false AND nature_code_mapped <> '';

-- Volume from the hourly summary. Same columns and meaning as in migration 004.
CREATE OR REPLACE VIEW pmhc.mh_calls_by_day AS
SELECT psap_id, local_hour::date AS day, sum(calls)::bigint AS calls, sum(mh_calls)::bigint AS mh_calls,
       round(sum(mh_calls)::numeric / sum(calls), 4) AS mh_share
  FROM pmhc.calls_by_local_hour GROUP BY 1, 2 HAVING sum(calls) > 0;
CREATE OR REPLACE VIEW pmhc.mh_calls_by_week AS
SELECT psap_id, date_trunc('week', local_hour)::date AS week_start, sum(calls)::bigint AS calls,
       sum(mh_calls)::bigint AS mh_calls, round(sum(mh_calls)::numeric / sum(calls), 4) AS mh_share
  FROM pmhc.calls_by_local_hour GROUP BY 1, 2 HAVING sum(calls) > 0;
CREATE OR REPLACE VIEW pmhc.mh_calls_by_month AS
SELECT psap_id, date_trunc('month', local_hour)::date AS month, sum(calls)::bigint AS calls,
       sum(mh_calls)::bigint AS mh_calls, round(sum(mh_calls)::numeric / sum(calls), 4) AS mh_share
  FROM pmhc.calls_by_local_hour GROUP BY 1, 2 HAVING sum(calls) > 0;
CREATE OR REPLACE VIEW pmhc.mh_calls_by_hour_weekday AS
SELECT psap_id, extract(isodow FROM local_hour)::int AS isodow, to_char(local_hour, 'Dy') AS weekday,
       extract(hour FROM local_hour)::int AS hour,
       pmhc.small_cell(sum(mh_calls)::bigint, pmhc.definition(psap_id, 'small_cell_threshold')::int) AS mh_calls
  FROM pmhc.calls_by_local_hour WHERE mh_calls > 0 GROUP BY 1, 2, 3, 4;

-- Baseline beside current: each PSAP's two periods read as ranges of local time
-- (calls_local_mh), not every MH call sorted into a period. Same columns and
-- meaning as in migration 004; a call in both periods counts in the baseline.
CREATE OR REPLACE VIEW pmhc.outcomes_baseline_vs_current AS
WITH psaps AS (
    SELECT DISTINCT psap_id FROM pmhc.calls_by_local_hour
), periods AS (
    SELECT p.psap_id, x.period, x.s, x.e, d.bs, d.be
      FROM psaps p
     CROSS JOIN LATERAL (SELECT pmhc.definition(p.psap_id, 'baseline_start')::date AS bs,
                                pmhc.definition(p.psap_id, 'baseline_end')::date AS be,
                                pmhc.definition(p.psap_id, 'current_start')::date AS cs,
                                pmhc.definition(p.psap_id, 'current_end')::date AS ce) d
     CROSS JOIN LATERAL (VALUES ('baseline', d.bs, d.be), ('current', d.cs, d.ce)) AS x(period, s, e)
    OFFSET 0 -- the bounds once per PSAP: inlined, definition() would run for every call
), agg AS (
    SELECT pr.psap_id, pr.period, pr.e - pr.s AS days, a.*
      FROM periods pr
     CROSS JOIN LATERAL (
         SELECT count(*) AS mh_calls,
                count(*) FILTER (WHERE outcome_counted) AS with_outcome,
                count(*) FILTER (WHERE outcome_counted AND connected) AS connected,
                count(*) FILTER (WHERE outcome_counted AND arrested) AS arrests,
                count(*) FILTER (WHERE outcome_counted AND used_force) AS use_of_force,
                count(*) FILTER (WHERE outcome_counted AND involuntary_hold) AS involuntary_holds,
                count(*) FILTER (WHERE repeat_encounter) AS repeat_calls,
                count(DISTINCT subject_hash) FILTER (WHERE repeat_encounter) AS repeat_subjects
           FROM pmhc.call_facts f
          WHERE f.psap_id = pr.psap_id AND f.mental_health_call
            AND f.received_local >= pr.s AND f.received_local < pr.e
            AND (pr.period = 'baseline' OR NOT (f.received_local >= pr.bs AND f.received_local < pr.be))) a
     WHERE a.mh_calls > 0
), measures AS (
    SELECT psap_id, period, m.ord, m.measure, m.value
      FROM agg CROSS JOIN LATERAL (VALUES
          (1, 'mh_calls', mh_calls::numeric),
          (2, 'mh_calls_per_day', round(mh_calls::numeric / days, 4)),
          (3, 'connected_rate', round(connected::numeric / nullif(with_outcome, 0), 4)),
          (4, 'arrest_rate', round(arrests::numeric / nullif(with_outcome, 0), 4)),
          (5, 'use_of_force_rate', round(use_of_force::numeric / nullif(with_outcome, 0), 4)),
          (6, 'involuntary_hold_rate', round(involuntary_holds::numeric / nullif(with_outcome, 0), 4)),
          (7, 'repeat_calls', repeat_calls::numeric),
          (8, 'repeat_subjects', repeat_subjects::numeric)) AS m(ord, measure, value)
)
SELECT psap_id, measure,
       max(value) FILTER (WHERE period = 'baseline') AS baseline,
       max(value) FILTER (WHERE period = 'current') AS current,
       max(value) FILTER (WHERE period = 'current') - max(value) FILTER (WHERE period = 'baseline') AS change,
       round((max(value) FILTER (WHERE period = 'current') - max(value) FILTER (WHERE period = 'baseline'))
             / nullif(max(value) FILTER (WHERE period = 'baseline'), 0), 4) AS change_fraction,
       min(ord) AS ord
  FROM measures GROUP BY psap_id, measure;

GRANT EXECUTE ON FUNCTION pmhc.definition(text, text) TO pmhc_analyst;

COMMENT ON COLUMN pmhc.call_facts.answers IS 'The twelve screening answers of the stored revision, Q1..Q12: Y yes, N no, ? not answered.';
COMMENT ON COLUMN pmhc.call_facts.call_taker_hash IS 'The keyed hash of the call-taker id; NULL when none was sent.';

-- The outcome views read a call's disposition by key: with its outcome columns in the
-- index, that is one index page, not an index page and a table page.
CREATE INDEX dispositions_outcome ON pmhc.dispositions (psap_id, call_id)
    INCLUDE (code, arrest, use_of_force, connected_to_services, service_unavailable);

-- Screening fidelity from one pass over the month's calls (the twelve questions
-- counted side by side, then one row each), instead of every call twelve times; and
-- its facts from call_facts alone, without reading pmhc.calls a second time. Same
-- columns and meaning as in migration 008.
CREATE OR REPLACE VIEW pmhc.screening_facts AS
SELECT f.psap_id, f.call_id, f.received_local, f.mental_health_call, f.answers, f.call_taker_hash,
       substr(f.answers, 1, 1) = 'Y' OR substr(f.answers, 2, 1) = 'Y' AS screened_mh,
       CASE WHEN f.disposition_code IS NULL OR NOT f.outcome_counted THEN NULL
            ELSE f.connected OR f.involuntary_hold OR f.disposition_code = 'TRANSPORTED_CRISIS_CENTER'
       END AS disposition_mh,
       f.small_cell_threshold
  FROM pmhc.call_facts f
 WHERE f.answers IS NOT NULL;

CREATE OR REPLACE VIEW pmhc.screening_fidelity AS
WITH m AS (
    SELECT psap_id, date_trunc('month', received_local)::date AS month, count(*) AS mh_calls,
           ARRAY[count(*) FILTER (WHERE substr(answers, 1, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 2, 1) <> '?'),
                 count(*) FILTER (WHERE substr(answers, 3, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 4, 1) <> '?'),
                 count(*) FILTER (WHERE substr(answers, 5, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 6, 1) <> '?'),
                 count(*) FILTER (WHERE substr(answers, 7, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 8, 1) <> '?'),
                 count(*) FILTER (WHERE substr(answers, 9, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 10, 1) <> '?'),
                 count(*) FILTER (WHERE substr(answers, 11, 1) <> '?'), count(*) FILTER (WHERE substr(answers, 12, 1) <> '?')]
               AS asked,
           count(*) FILTER (WHERE disposition_mh IS NOT NULL) AS with_disposition,
           count(*) FILTER (WHERE screened_mh = disposition_mh) AS agreed
      FROM pmhc.screening_facts
     WHERE mental_health_call
     GROUP BY 1, 2
)
SELECT psap_id, month, mh_calls, q.n AS question,
       round(asked[q.n]::numeric / mh_calls, 4) AS asked_share,
       with_disposition,
       round(agreed::numeric / nullif(with_disposition, 0), 4) AS screening_agreed_share
  FROM m CROSS JOIN generate_series(1, 12) AS q(n);
