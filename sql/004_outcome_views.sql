-- 004: the views analysts use to measure the collaboration against its four key
-- outcomes (SPEC section 5). Periods, weekdays and hours are in each PSAP's time
-- zone (pmhc.definitions); rates are fractions; a rate with no calls under it is NULL.
--
-- Outcome definitions:
--   an MH call counts in the period of its received_at (local time);
--   outcome denominator: MH calls with a disposition whose code is not CANCELLED or NO_CONTACT;
--   connected to services: connected_to_services, or code REFERRED, TRANSPORTED_CRISIS_CENTER, TRANSFERRED_988;
--   arrest: arrest, or code ARREST (an involuntary hold is not an arrest: it has its own rate);
--   use of force: use_of_force;
--   repeat encounter: an MH call whose subject (same PSAP, same subject_hash) had at least
--     repeat_threshold - 1 other MH calls in the repeat_window_days x 24 h before it
--     (from received_at - window, inclusive, to received_at, exclusive).

-- Internal: one row per call with everything the views need. It holds subject_hash,
-- so pmhc_analyst is not granted it (see 005_roles.sql); every view below is.
CREATE VIEW pmhc.call_facts AS
SELECT c.psap_id, c.call_id, c.revision, c.received_at,
       c.received_at AT TIME ZONE e.time_zone AS received_local,
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
       c.mental_health_call AND c.subject_hash IS NOT NULL AND (
           SELECT count(*) FROM pmhc.calls p
            WHERE p.psap_id = c.psap_id AND p.subject_hash = c.subject_hash AND p.mental_health_call
              AND p.received_at >= c.received_at - make_interval(hours => 24 * e.repeat_window_days)
              AND p.received_at < c.received_at) >= e.repeat_threshold - 1 AS repeat_encounter,
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

COMMENT ON VIEW pmhc.call_facts IS
    'Internal: every call with its disposition, outcome flags, repeat-encounter flag and local time. Holds subject_hash: not for analysts; they use pmhc.mh_call_outcomes.';

-- Calls in a fine-grained cell smaller than the center's small-cell threshold are not shown.
CREATE FUNCTION pmhc.small_cell(n bigint, threshold int) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN n > 0 AND n < threshold THEN NULL ELSE n END $$;
COMMENT ON FUNCTION pmhc.small_cell(bigint, int) IS 'n, or NULL when 0 < n < threshold (small-cell suppression).';

CREATE VIEW pmhc.mh_call_outcomes AS
SELECT psap_id, call_id, revision, received_at, received_local, source, nature_code_mapped, flags,
       rule_id, response, dispatch_code, unit_ids, fallback_used, beat, district, backfilled,
       disposition_code, closed_at, units_went, service_unavailable, service_name,
       outcome_counted, connected, arrested, used_force, involuntary_hold, repeat_encounter
  FROM pmhc.call_facts WHERE mental_health_call;
COMMENT ON VIEW pmhc.mh_call_outcomes IS 'Every mental-health call with its recommendation, disposition and outcome flags, one row per call. No subject identifiers.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.received_local IS 'received_at in the PSAP''s time zone.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.units_went IS 'The units the disposition says actually went.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.outcome_counted IS 'Counts in outcome denominators: has a disposition whose code is not CANCELLED or NO_CONTACT.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.connected IS 'Connected to services (flag, or code REFERRED, TRANSPORTED_CRISIS_CENTER, TRANSFERRED_988).';
COMMENT ON COLUMN pmhc.mh_call_outcomes.arrested IS 'Arrest (flag, or code ARREST); an involuntary hold is not an arrest.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.used_force IS 'Force was used.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.involuntary_hold IS 'Disposition code INVOLUNTARY_HOLD.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.repeat_encounter IS 'The subject had at least repeat_threshold - 1 other MH calls in the window before this one.';

-- MH calls over time.
CREATE VIEW pmhc.mh_calls_by_day AS
SELECT psap_id, received_local::date AS day, count(*) AS calls,
       count(*) FILTER (WHERE mental_health_call) AS mh_calls,
       round(count(*) FILTER (WHERE mental_health_call)::numeric / count(*), 4) AS mh_share
  FROM pmhc.call_facts GROUP BY 1, 2;
COMMENT ON VIEW pmhc.mh_calls_by_day IS 'Calls and mental-health calls per local day.';
COMMENT ON COLUMN pmhc.mh_calls_by_day.day IS 'Local date.';
COMMENT ON COLUMN pmhc.mh_calls_by_day.calls IS 'All calls decided.';
COMMENT ON COLUMN pmhc.mh_calls_by_day.mh_calls IS 'Mental-health calls.';
COMMENT ON COLUMN pmhc.mh_calls_by_day.mh_share IS 'mh_calls / calls.';

CREATE VIEW pmhc.mh_calls_by_week AS
SELECT psap_id, date_trunc('week', received_local)::date AS week_start, count(*) AS calls,
       count(*) FILTER (WHERE mental_health_call) AS mh_calls,
       round(count(*) FILTER (WHERE mental_health_call)::numeric / count(*), 4) AS mh_share
  FROM pmhc.call_facts GROUP BY 1, 2;
COMMENT ON VIEW pmhc.mh_calls_by_week IS 'Calls and mental-health calls per local ISO week (Monday to Sunday).';
COMMENT ON COLUMN pmhc.mh_calls_by_week.week_start IS 'The Monday that starts the week.';
COMMENT ON COLUMN pmhc.mh_calls_by_week.calls IS 'All calls decided.';
COMMENT ON COLUMN pmhc.mh_calls_by_week.mh_calls IS 'Mental-health calls.';
COMMENT ON COLUMN pmhc.mh_calls_by_week.mh_share IS 'mh_calls / calls.';

CREATE VIEW pmhc.mh_calls_by_month AS
SELECT psap_id, date_trunc('month', received_local)::date AS month, count(*) AS calls,
       count(*) FILTER (WHERE mental_health_call) AS mh_calls,
       round(count(*) FILTER (WHERE mental_health_call)::numeric / count(*), 4) AS mh_share
  FROM pmhc.call_facts GROUP BY 1, 2;
COMMENT ON VIEW pmhc.mh_calls_by_month IS 'Calls and mental-health calls per local calendar month.';
COMMENT ON COLUMN pmhc.mh_calls_by_month.month IS 'First day of the month.';
COMMENT ON COLUMN pmhc.mh_calls_by_month.calls IS 'All calls decided.';
COMMENT ON COLUMN pmhc.mh_calls_by_month.mh_calls IS 'Mental-health calls.';
COMMENT ON COLUMN pmhc.mh_calls_by_month.mh_share IS 'mh_calls / calls.';

-- Where, and when in the week.
CREATE VIEW pmhc.mh_calls_by_place AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       coalesce(district, '') AS district, coalesce(beat, '') AS beat,
       pmhc.small_cell(count(*), min(small_cell_threshold)) AS mh_calls
  FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW pmhc.mh_calls_by_place IS 'Mental-health calls per local month, district and beat; small cells suppressed.';
COMMENT ON COLUMN pmhc.mh_calls_by_place.month IS 'First day of the month.';
COMMENT ON COLUMN pmhc.mh_calls_by_place.district IS 'District ('''' when the CAD gave none).';
COMMENT ON COLUMN pmhc.mh_calls_by_place.beat IS 'Beat ('''' when the CAD gave none).';
COMMENT ON COLUMN pmhc.mh_calls_by_place.mh_calls IS 'Mental-health calls; NULL when fewer than the small-cell threshold.';

CREATE VIEW pmhc.mh_calls_by_hour_weekday AS
SELECT psap_id, extract(isodow FROM received_local)::int AS isodow,
       to_char(received_local, 'Dy') AS weekday, extract(hour FROM received_local)::int AS hour,
       pmhc.small_cell(count(*), min(small_cell_threshold)) AS mh_calls
  FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW pmhc.mh_calls_by_hour_weekday IS 'Mental-health calls per local weekday and hour of day, over all time; small cells suppressed.';
COMMENT ON COLUMN pmhc.mh_calls_by_hour_weekday.isodow IS 'ISO weekday: 1 Monday to 7 Sunday.';
COMMENT ON COLUMN pmhc.mh_calls_by_hour_weekday.weekday IS 'Weekday name (Mon..Sun).';
COMMENT ON COLUMN pmhc.mh_calls_by_hour_weekday.hour IS 'Local hour of day, 0-23.';
COMMENT ON COLUMN pmhc.mh_calls_by_hour_weekday.mh_calls IS 'Mental-health calls; NULL when fewer than the small-cell threshold.';

-- The four key outcomes and the involuntary-hold rate per month.
CREATE VIEW pmhc.outcomes_by_month AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       count(*) AS mh_calls,
       count(*) FILTER (WHERE outcome_counted) AS with_outcome,
       count(*) FILTER (WHERE outcome_counted AND connected) AS connected,
       round(count(*) FILTER (WHERE outcome_counted AND connected)::numeric
             / nullif(count(*) FILTER (WHERE outcome_counted), 0), 4) AS connected_rate,
       count(*) FILTER (WHERE outcome_counted AND arrested) AS arrests,
       round(count(*) FILTER (WHERE outcome_counted AND arrested)::numeric
             / nullif(count(*) FILTER (WHERE outcome_counted), 0), 4) AS arrest_rate,
       count(*) FILTER (WHERE outcome_counted AND used_force) AS use_of_force,
       round(count(*) FILTER (WHERE outcome_counted AND used_force)::numeric
             / nullif(count(*) FILTER (WHERE outcome_counted), 0), 4) AS use_of_force_rate,
       count(*) FILTER (WHERE outcome_counted AND involuntary_hold) AS involuntary_holds,
       round(count(*) FILTER (WHERE outcome_counted AND involuntary_hold)::numeric
             / nullif(count(*) FILTER (WHERE outcome_counted), 0), 4) AS involuntary_hold_rate,
       count(*) FILTER (WHERE repeat_encounter) AS repeat_calls,
       count(DISTINCT subject_hash) FILTER (WHERE repeat_encounter) AS repeat_subjects
  FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2;
COMMENT ON VIEW pmhc.outcomes_by_month IS 'The four key outcomes and the involuntary-hold rate per local month (definitions in migration 004).';
COMMENT ON COLUMN pmhc.outcomes_by_month.month IS 'First day of the month.';
COMMENT ON COLUMN pmhc.outcomes_by_month.mh_calls IS 'Mental-health calls received in the month.';
COMMENT ON COLUMN pmhc.outcomes_by_month.with_outcome IS 'The denominator: MH calls with a disposition other than CANCELLED or NO_CONTACT.';
COMMENT ON COLUMN pmhc.outcomes_by_month.connected IS 'Of those, connected to services.';
COMMENT ON COLUMN pmhc.outcomes_by_month.connected_rate IS 'connected / with_outcome.';
COMMENT ON COLUMN pmhc.outcomes_by_month.arrests IS 'Of those, arrests.';
COMMENT ON COLUMN pmhc.outcomes_by_month.arrest_rate IS 'arrests / with_outcome.';
COMMENT ON COLUMN pmhc.outcomes_by_month.use_of_force IS 'Of those, calls where force was used.';
COMMENT ON COLUMN pmhc.outcomes_by_month.use_of_force_rate IS 'use_of_force / with_outcome.';
COMMENT ON COLUMN pmhc.outcomes_by_month.involuntary_holds IS 'Of those, involuntary holds.';
COMMENT ON COLUMN pmhc.outcomes_by_month.involuntary_hold_rate IS 'involuntary_holds / with_outcome.';
COMMENT ON COLUMN pmhc.outcomes_by_month.repeat_calls IS 'MH calls in the month that were repeat encounters.';
COMMENT ON COLUMN pmhc.outcomes_by_month.repeat_subjects IS 'Distinct subjects with a repeat encounter in the month.';

-- Baseline beside current, per PSAP, with the change.
CREATE VIEW pmhc.outcomes_baseline_vs_current AS
WITH periods AS (
    SELECT f.*, CASE
               WHEN received_local >= baseline_start AND received_local < baseline_end THEN 'baseline'
               WHEN received_local >= current_start AND received_local < current_end THEN 'current'
           END AS period,
           CASE
               WHEN received_local >= baseline_start AND received_local < baseline_end THEN baseline_end - baseline_start
               WHEN received_local >= current_start AND received_local < current_end THEN current_end - current_start
           END AS period_days
      FROM pmhc.call_facts f WHERE mental_health_call
), agg AS (
    SELECT psap_id, period, min(period_days) AS days, count(*) AS mh_calls,
           count(*) FILTER (WHERE outcome_counted) AS with_outcome,
           count(*) FILTER (WHERE outcome_counted AND connected) AS connected,
           count(*) FILTER (WHERE outcome_counted AND arrested) AS arrests,
           count(*) FILTER (WHERE outcome_counted AND used_force) AS use_of_force,
           count(*) FILTER (WHERE outcome_counted AND involuntary_hold) AS involuntary_holds,
           count(*) FILTER (WHERE repeat_encounter) AS repeat_calls,
           count(DISTINCT subject_hash) FILTER (WHERE repeat_encounter) AS repeat_subjects
      FROM periods WHERE period IS NOT NULL GROUP BY 1, 2
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
COMMENT ON VIEW pmhc.outcomes_baseline_vs_current IS 'Each PSAP''s MH call volume and outcomes in the baseline period beside the current one (periods from pmhc.definitions), with the change. Order by psap_id, ord.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.measure IS 'mh_calls, mh_calls_per_day, connected_rate, arrest_rate, use_of_force_rate, involuntary_hold_rate, repeat_calls, repeat_subjects.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.baseline IS 'The measure over the baseline period.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.current IS 'The measure over the current period.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.change IS 'current - baseline.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.change_fraction IS '(current - baseline) / baseline; NULL when the baseline is 0 or missing.';
COMMENT ON COLUMN pmhc.outcomes_baseline_vs_current.ord IS 'Display order of the measures.';

-- Referrals that could not happen: capacity and eligibility gaps, by service.
CREATE VIEW pmhc.referrals_service_unavailable AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       coalesce(nullif(service_name, ''), '(not named)') AS service_name, count(*) AS mh_calls
  FROM pmhc.call_facts WHERE mental_health_call AND service_unavailable GROUP BY 1, 2, 3;
COMMENT ON VIEW pmhc.referrals_service_unavailable IS 'MH calls where a referral was wanted but the service had no capacity or the person was ineligible, per local month and service.';
COMMENT ON COLUMN pmhc.referrals_service_unavailable.month IS 'First day of the month.';
COMMENT ON COLUMN pmhc.referrals_service_unavailable.service_name IS 'The service that was unavailable.';
COMMENT ON COLUMN pmhc.referrals_service_unavailable.mh_calls IS 'MH calls where it was unavailable.';

-- What pmhcd recommended against what happened.
CREATE VIEW pmhc.recommended_vs_disposition AS
SELECT psap_id, response, coalesce(disposition_code, '(open)') AS disposition_code, count(*) AS calls,
       count(*) FILTER (WHERE cardinality(unit_ids) > 0) AS with_units,
       count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids <@ units_went) AS all_recommended_went,
       count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids && units_went
                        AND NOT unit_ids <@ units_went) AS some_recommended_went,
       count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND units_went IS NOT NULL
                        AND NOT unit_ids && units_went) AS none_recommended_went
  FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3;
COMMENT ON VIEW pmhc.recommended_vs_disposition IS 'Live MH calls by recommended response and disposition code, and whether the recommended units are the ones that went.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.response IS 'The recommended response.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.calls IS 'Live MH calls with this response and disposition code.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.disposition_code IS 'The disposition code, or (open) when none arrived yet.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.with_units IS 'Calls for which pmhcd recommended at least one unit.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.all_recommended_went IS 'Every recommended unit went.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.some_recommended_went IS 'Some, not all, of the recommended units went.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.none_recommended_went IS 'A disposition names the units that went, and none was recommended.';

-- Capacity: how often the needed kind of unit was not free.
CREATE VIEW pmhc.fallbacks_by_hour_beat AS
SELECT psap_id, coalesce(beat, '') AS beat, extract(hour FROM received_local)::int AS hour,
       count(*) AS mh_calls, count(*) FILTER (WHERE fallback_used) AS fallbacks,
       round(count(*) FILTER (WHERE fallback_used)::numeric / count(*), 4) AS fallback_rate
  FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3;
COMMENT ON VIEW pmhc.fallbacks_by_hour_beat IS 'Live MH calls per beat and local hour, and how many needed a fallback (a needed kind of unit was not free).';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.beat IS 'Beat ('''' when the CAD gave none).';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.hour IS 'Local hour of day, 0-23.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.mh_calls IS 'Live MH calls.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallbacks IS 'Of those, calls where a fallback was needed or a need went unfilled.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallback_rate IS 'fallbacks / mh_calls.';

-- 911 calls handed to 988.
CREATE VIEW pmhc.diversions_911_to_988 AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       count(*) AS mh_calls_911,
       count(*) FILTER (WHERE disposition_code = 'TRANSFERRED_988') AS transferred_988,
       round(count(*) FILTER (WHERE disposition_code = 'TRANSFERRED_988')::numeric / count(*), 4) AS diversion_rate
  FROM pmhc.call_facts WHERE mental_health_call AND source = '911' GROUP BY 1, 2;
COMMENT ON VIEW pmhc.diversions_911_to_988 IS 'Mental-health calls that came in on 911 and were transferred to 988, per local month.';
COMMENT ON COLUMN pmhc.diversions_911_to_988.month IS 'First day of the month.';
COMMENT ON COLUMN pmhc.diversions_911_to_988.mh_calls_911 IS 'MH calls that came in on 911.';
COMMENT ON COLUMN pmhc.diversions_911_to_988.transferred_988 IS 'Of those, transferred to 988 (disposition TRANSFERRED_988).';
COMMENT ON COLUMN pmhc.diversions_911_to_988.diversion_rate IS 'transferred_988 / mh_calls_911.';

-- A view column that passes a table column through means what the table says:
-- copy those comments rather than repeat them by hand, so they cannot drift.
DO $$
DECLARE
    r record;
    src text;
BEGIN
    FOR r IN
        SELECT c.relname, a.attname
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'pmhc' AND c.relkind = 'v' AND a.attnum > 0 AND NOT a.attisdropped
           AND col_description(c.oid, a.attnum) IS NULL
    LOOP
        SELECT col_description(t.oid, ta.attnum) INTO src
          FROM pg_class t JOIN pg_attribute ta ON ta.attrelid = t.oid
         WHERE t.oid IN ('pmhc.calls'::regclass, 'pmhc.dispositions'::regclass,
                         'pmhc.mh_call_outcomes'::regclass, 'pmhc.effective_definitions'::regclass)
           AND ta.attname = r.attname AND col_description(t.oid, ta.attnum) IS NOT NULL
         ORDER BY t.oid = 'pmhc.calls'::regclass DESC
         LIMIT 1;
        IF src IS NOT NULL THEN
            EXECUTE format('COMMENT ON COLUMN pmhc.%I.%I IS %L', r.relname, r.attname, src);
        END IF;
    END LOOP;
END $$;

COMMENT ON COLUMN pmhc.call_facts.disposition_code IS 'The disposition code, NULL while the call is open.';
COMMENT ON COLUMN pmhc.call_facts.units_went IS 'The units the disposition says actually went.';
COMMENT ON COLUMN pmhc.call_facts.received_local IS 'received_at in the PSAP''s time zone.';
COMMENT ON COLUMN pmhc.call_facts.outcome_counted IS 'Counts in outcome denominators: has a disposition whose code is not CANCELLED or NO_CONTACT.';
COMMENT ON COLUMN pmhc.call_facts.connected IS 'Connected to services (flag, or code REFERRED, TRANSPORTED_CRISIS_CENTER, TRANSFERRED_988).';
COMMENT ON COLUMN pmhc.call_facts.arrested IS 'Arrest (flag, or code ARREST); an involuntary hold is not an arrest.';
COMMENT ON COLUMN pmhc.call_facts.used_force IS 'Force was used.';
COMMENT ON COLUMN pmhc.call_facts.involuntary_hold IS 'Disposition code INVOLUNTARY_HOLD.';
COMMENT ON COLUMN pmhc.call_facts.repeat_encounter IS 'An MH call whose subject had at least repeat_threshold - 1 other MH calls in the window before it.';
COMMENT ON COLUMN pmhc.mh_call_outcomes.disposition_code IS 'The disposition code, NULL while the call is open.';
