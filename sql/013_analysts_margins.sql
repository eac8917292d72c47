-- 013: every count an analyst reads is protected, and no protected cell is
-- recovered by differencing one view against another (issue 17). Migration 011
-- protected three views within one margin each; the rest showed exact counts,
-- and margins that do not nest (weeks across months, days against the hours of
-- a weekday, months against the whole history, a month series against the
-- periods) gave hidden cells back. The rule, for readers who do not see exact
-- counts (everyone but case reviewers and the DBA):
--
--   1. Months are the anchor. A PSAP's months of calls and of MH calls are
--      protected against the whole history (the total any all-time view adds
--      up to): a small month is hidden, and the next smallest with it until
--      what is hidden adds up to the threshold at least.
--   2. Everything of a month hidden by rule 1 is hidden: its days, beats,
--      responses, outcomes, referrals, diversions, screening and call-takers
--      would otherwise add up to it again.
--   3. A breakdown of a month is protected within the month (011's margin), and
--      a cell that is also in a second published margin (a day in its weekday,
--      an hour in its hour of the day, a beat's hour in its beat, a disposition
--      in its response) is protected in that one too: where the second margin's
--      hidden cells add up to less than the threshold, its smallest shown cell
--      is hidden as well. A shown cell is at least the threshold, so this never
--      breaks the first margin.
--   4. A part of a count (arrests of the calls with an outcome, transfers of the
--      911 calls, ...) is hidden when it or its complement is from 1 to the
--      threshold minus one, or when its whole is hidden; a rate goes with its
--      numerator and its denominator.
--   5. What spans more than a month and would not nest (a week, a period, a
--      range of months) is the sum of the published cells it covers, and
--      hidden when any of them is: it tells nothing the cells do not.
SET LOCAL search_path = pg_catalog, pg_temp;

-- ---- building blocks ----------------------------------------------------------

-- Rule 4. part of whole; whole_shown is the whole as published (NULL when hidden).
CREATE FUNCTION pmhc.protected_part(part bigint, whole bigint, whole_shown bigint, threshold int) RETURNS bigint
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT CASE WHEN threshold = 0 THEN part
                WHEN whole_shown IS NULL OR part IS NULL THEN NULL
                WHEN part BETWEEN 1 AND threshold - 1 OR whole - part BETWEEN 1 AND threshold - 1 THEN NULL
                ELSE part END;
END;
COMMENT ON FUNCTION pmhc.protected_part(bigint, bigint, bigint, int) IS
    'A part of a count, NULL when it or the rest of the whole is a small count, or the whole is hidden (migration 013, rule 4).';

-- Rule 3's second margin. shown: the cell after the first margin; hidden_sum: what
-- the second margin hides so far; shown_rank: 1 for its smallest shown cell.
CREATE FUNCTION pmhc.second_margin_cell(shown bigint, threshold int, hidden_sum numeric, shown_rank bigint)
    RETURNS bigint LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT CASE WHEN shown IS NOT NULL AND shown <> 0 AND shown_rank = 1
                     AND coalesce(hidden_sum, 0) BETWEEN 1 AND threshold - 1 THEN NULL
                ELSE shown END;
END;
COMMENT ON FUNCTION pmhc.second_margin_cell(bigint, int, numeric, bigint) IS
    'A cell of a second margin, NULL when it is that margin''s smallest shown cell and what the margin hides is a small count (migration 013, rule 3).';

REVOKE ALL ON FUNCTION pmhc.protected_part(bigint, bigint, bigint, int),
    pmhc.second_margin_cell(bigint, int, numeric, bigint) FROM PUBLIC;
-- A view calls functions as its reader: case reviewers read response_mix_by_month
-- (012), which now calls these too.
GRANT EXECUTE ON FUNCTION pmhc.protected_part(bigint, bigint, bigint, int),
    pmhc.second_margin_cell(bigint, int, numeric, bigint), pmhc.small_cell_floor(), pmhc.sees_exact_counts(),
    pmhc.protected_cell(bigint, int, bigint, bigint), pmhc.reader_threshold(int)
    TO pmhc_analyst, pmhc_case_reviewer;

-- ---- rule 1: the months ---------------------------------------------------------

CREATE OR REPLACE VIEW pmhc.mh_calls_by_month WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', local_hour)::date AS month,
           pg_catalog.sum(calls)::bigint AS calls, pg_catalog.sum(mh_calls)::bigint AS mh,
           pmhc.reader_threshold(pmhc.definition(psap_id, 'small_cell_threshold')::int) AS k
      FROM pmhc.calls_by_local_hour GROUP BY 1, 2 HAVING pg_catalog.sum(calls) > 0
), shown AS (
    SELECT c.*,
           pmhc.protected_cell(calls, k, pg_catalog.count(*) FILTER (WHERE calls BETWEEN 1 AND k - 1) OVER h,
               coalesce(pg_catalog.sum(calls) OVER (h ORDER BY calls, month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS calls_shown,
           pmhc.protected_cell(mh, k, pg_catalog.count(*) FILTER (WHERE mh BETWEEN 1 AND k - 1) OVER h,
               coalesce(pg_catalog.sum(mh) OVER (h ORDER BY mh, month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS mh_shown
      FROM cells c WINDOW h AS (PARTITION BY psap_id)
)
SELECT psap_id, month, calls_shown AS calls, mh_shown AS mh_calls,
       CASE WHEN calls_shown IS NOT NULL AND mh_shown IS NOT NULL THEN round(mh::numeric / calls, 4) END AS mh_share
  FROM shown;
COMMENT ON COLUMN pmhc.mh_calls_by_month.calls IS
    'All calls decided; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.mh_calls_by_month.mh_calls IS
    'Mental-health calls; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.mh_calls_by_month.mh_share IS 'mh_calls / calls; NULL when either is hidden.';

-- ---- the days, and the weeks made of them -----------------------------------------

-- Days: margins the month (both counts) and, for MH calls, the weekday over the
-- whole history (what mh_calls_by_hour_weekday adds up to).
CREATE OR REPLACE VIEW pmhc.mh_calls_by_day WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, local_hour::date AS day, pg_catalog.sum(calls)::bigint AS calls,
           pg_catalog.sum(mh_calls)::bigint AS mh,
           pmhc.reader_threshold(pmhc.definition(psap_id, 'small_cell_threshold')::int) AS k
      FROM pmhc.calls_by_local_hour GROUP BY 1, 2 HAVING pg_catalog.sum(calls) > 0
), in_month AS (
    SELECT c.*, pg_catalog.date_trunc('month', day)::date AS month,
           pmhc.protected_cell(calls, k, pg_catalog.count(*) FILTER (WHERE calls BETWEEN 1 AND k - 1) OVER m,
               coalesce(pg_catalog.sum(calls) OVER (m ORDER BY calls, day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS calls1,
           pmhc.protected_cell(mh, k, pg_catalog.count(*) FILTER (WHERE mh BETWEEN 1 AND k - 1) OVER m,
               coalesce(pg_catalog.sum(mh) OVER (m ORDER BY mh, day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS mh1
      FROM cells c WINDOW m AS (PARTITION BY psap_id, pg_catalog.date_trunc('month', day))
), month_hidden AS (
    SELECT d.psap_id, d.day, d.calls, d.mh, d.k, pg_catalog.date_part('isodow', d.day) AS isodow,
           CASE WHEN mo.calls IS NULL OR mo.mh_calls IS NULL THEN NULL ELSE d.calls1 END AS calls2,
           CASE WHEN mo.calls IS NULL OR mo.mh_calls IS NULL THEN NULL ELSE d.mh1 END AS mh2
      FROM in_month d JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
), in_weekday AS (
    SELECT d.*,
           pmhc.second_margin_cell(mh2, k, pg_catalog.sum(mh) FILTER (WHERE mh2 IS NULL) OVER w,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, isodow, mh2 IS NULL OR mh2 = 0 ORDER BY mh, day)) AS mh3
      FROM month_hidden d WINDOW w AS (PARTITION BY psap_id, isodow)
)
SELECT psap_id, day, calls2 AS calls, mh3 AS mh_calls,
       CASE WHEN calls2 IS NOT NULL AND mh3 IS NOT NULL THEN round(mh::numeric / calls, 4) END AS mh_share
  FROM in_weekday;
COMMENT ON COLUMN pmhc.mh_calls_by_day.calls IS
    'All calls decided; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.mh_calls_by_day.mh_calls IS
    'Mental-health calls; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.mh_calls_by_day.mh_share IS 'mh_calls / calls; NULL when either is hidden.';

-- A week straddles two months: it is the sum of its published days, hidden
-- when any of them is (rule 5).
CREATE OR REPLACE VIEW pmhc.mh_calls_by_week WITH (security_barrier) AS
SELECT psap_id, pg_catalog.date_trunc('week', day)::date AS week_start,
       CASE WHEN pg_catalog.bool_and(calls IS NOT NULL) THEN pg_catalog.sum(calls)::bigint END AS calls,
       CASE WHEN pg_catalog.bool_and(mh_calls IS NOT NULL) THEN pg_catalog.sum(mh_calls)::bigint END AS mh_calls,
       CASE WHEN pg_catalog.bool_and(calls IS NOT NULL AND mh_calls IS NOT NULL)
            THEN round(pg_catalog.sum(mh_calls)::numeric / pg_catalog.sum(calls), 4) END AS mh_share
  FROM pmhc.mh_calls_by_day GROUP BY 1, 2;
COMMENT ON COLUMN pmhc.mh_calls_by_week.calls IS
    'All calls decided: the sum of the week''s days in mh_calls_by_day; NULL when any of them is hidden.';
COMMENT ON COLUMN pmhc.mh_calls_by_week.mh_calls IS
    'Mental-health calls: the sum of the week''s days in mh_calls_by_day; NULL when any of them is hidden.';
COMMENT ON COLUMN pmhc.mh_calls_by_week.mh_share IS 'mh_calls / calls; NULL when either is hidden.';

-- ---- hours and weekdays -------------------------------------------------------------

-- Margins: the weekday (its days' total) and the hour of the day (the live hours of
-- fallbacks_by_hour_beat add up to it where nothing was backfilled).
CREATE OR REPLACE VIEW pmhc.mh_calls_by_hour_weekday WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_part('isodow', local_hour)::int AS isodow,
           pg_catalog.to_char(local_hour, 'Dy') AS weekday, pg_catalog.date_part('hour', local_hour)::int AS hour,
           pg_catalog.sum(mh_calls)::bigint AS n,
           pmhc.reader_threshold(pmhc.definition(psap_id, 'small_cell_threshold')::int) AS k
      FROM pmhc.calls_by_local_hour WHERE mh_calls > 0 GROUP BY 1, 2, 3, 4
), in_weekday AS (
    SELECT c.*,
           pmhc.protected_cell(n, k, pg_catalog.count(*) FILTER (WHERE n < k) OVER d,
               coalesce(pg_catalog.sum(n) OVER (d ORDER BY n, hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS n1
      FROM cells c WINDOW d AS (PARTITION BY psap_id, isodow)
)
SELECT psap_id, isodow, weekday, hour,
       pmhc.second_margin_cell(n1, k, pg_catalog.sum(n) FILTER (WHERE n1 IS NULL) OVER h,
           pg_catalog.row_number() OVER (PARTITION BY psap_id, hour, n1 IS NULL ORDER BY n, isodow)) AS mh_calls
  FROM in_weekday WINDOW h AS (PARTITION BY psap_id, hour);

-- ---- the outcomes --------------------------------------------------------------------

-- The month's MH calls as mh_calls_by_month publishes them; every other count a
-- part of it (rule 4): with_outcome of mh_calls, the four outcomes of
-- with_outcome, repeat_calls of mh_calls. repeat_subjects (distinct people) goes
-- with repeat_calls and is a small cell on its own.
CREATE OR REPLACE VIEW pmhc.outcomes_by_month WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, pg_catalog.count(*) AS mh,
           pg_catalog.count(*) FILTER (WHERE outcome_counted) AS wo,
           pg_catalog.count(*) FILTER (WHERE outcome_counted AND connected) AS con,
           pg_catalog.count(*) FILTER (WHERE outcome_counted AND arrested) AS arr,
           pg_catalog.count(*) FILTER (WHERE outcome_counted AND used_force) AS uof,
           pg_catalog.count(*) FILTER (WHERE outcome_counted AND involuntary_hold) AS hold,
           pg_catalog.count(*) FILTER (WHERE repeat_encounter) AS rep,
           pg_catalog.count(DISTINCT subject_hash) FILTER (WHERE repeat_encounter) AS subj,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2
), wholes AS (
    SELECT c.*, mo.mh_calls AS mh_s, pmhc.protected_part(c.wo, c.mh, mo.mh_calls, c.k) AS wo_s,
           pmhc.protected_part(c.rep, c.mh, mo.mh_calls, c.k) AS rep_s
      FROM cells c JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
), parts AS (
    SELECT w.*, pmhc.protected_part(con, wo, wo_s, k) AS con_s, pmhc.protected_part(arr, wo, wo_s, k) AS arr_s,
           pmhc.protected_part(uof, wo, wo_s, k) AS uof_s, pmhc.protected_part(hold, wo, wo_s, k) AS hold_s,
           pmhc.protected_part(subj, subj, rep_s, k) AS subj_s
      FROM wholes w
)
SELECT psap_id, month, mh_s AS mh_calls, wo_s AS with_outcome,
       con_s AS connected, CASE WHEN con_s IS NOT NULL THEN round(con::numeric / nullif(wo, 0), 4) END AS connected_rate,
       arr_s AS arrests, CASE WHEN arr_s IS NOT NULL THEN round(arr::numeric / nullif(wo, 0), 4) END AS arrest_rate,
       uof_s AS use_of_force,
       CASE WHEN uof_s IS NOT NULL THEN round(uof::numeric / nullif(wo, 0), 4) END AS use_of_force_rate,
       hold_s AS involuntary_holds,
       CASE WHEN hold_s IS NOT NULL THEN round(hold::numeric / nullif(wo, 0), 4) END AS involuntary_hold_rate,
       rep_s AS repeat_calls, subj_s AS repeat_subjects
  FROM parts;
COMMENT ON VIEW pmhc.outcomes_by_month IS
    'The four key outcomes and the involuntary-hold rate per local month (definitions in migration 004); small and complementary counts, and their rates, NULL for analysts (migration 013).';

-- The two periods, for analysts, from the published months (rule 5): a period
-- that does not run from a month's first day to another's, or covers a hidden
-- month, shows NULL for that measure. Exact readers read the calls, as in 009.
-- The UNION's two arms are gated by a one-time filter: only one runs.
CREATE OR REPLACE VIEW pmhc.outcomes_baseline_vs_current WITH (security_barrier) AS
WITH psaps AS (
    SELECT DISTINCT psap_id FROM pmhc.calls_by_local_hour
), periods AS (
    SELECT p.psap_id, x.period, x.s, x.e, d.bs, d.be,
           pmhc.reader_threshold(pmhc.definition(p.psap_id, 'small_cell_threshold')::int) AS k
      FROM psaps p
     CROSS JOIN LATERAL (SELECT pmhc.definition(p.psap_id, 'baseline_start')::date AS bs,
                                pmhc.definition(p.psap_id, 'baseline_end')::date AS be,
                                pmhc.definition(p.psap_id, 'current_start')::date AS cs,
                                pmhc.definition(p.psap_id, 'current_end')::date AS ce) d
     CROSS JOIN LATERAL (VALUES ('baseline', d.bs, d.be), ('current', d.cs, d.ce)) AS x(period, s, e)
    OFFSET 0 -- the bounds once per PSAP: inlined, definition() would run for every call
), exact AS (
    SELECT pr.psap_id, pr.period, pr.e - pr.s AS days, a.*
      FROM periods pr
     CROSS JOIN LATERAL (
         SELECT pg_catalog.count(*) AS mh_calls,
                pg_catalog.count(*) FILTER (WHERE outcome_counted) AS with_outcome,
                pg_catalog.count(*) FILTER (WHERE outcome_counted AND connected) AS connected,
                pg_catalog.count(*) FILTER (WHERE outcome_counted AND arrested) AS arrests,
                pg_catalog.count(*) FILTER (WHERE outcome_counted AND used_force) AS use_of_force,
                pg_catalog.count(*) FILTER (WHERE outcome_counted AND involuntary_hold) AS involuntary_holds,
                pg_catalog.count(*) FILTER (WHERE repeat_encounter) AS repeat_calls,
                pg_catalog.count(DISTINCT subject_hash) FILTER (WHERE repeat_encounter) AS repeat_subjects
           FROM pmhc.call_facts f
          WHERE f.psap_id = pr.psap_id AND f.mental_health_call
            AND f.received_local >= pr.s AND f.received_local < pr.e
            AND (pr.period = 'baseline' OR NOT (f.received_local >= pr.bs AND f.received_local < pr.be))) a
     WHERE pmhc.sees_exact_counts() AND a.mh_calls > 0
), published AS (
    SELECT pr.psap_id, pr.period, pr.e - pr.s AS days,
           CASE WHEN whole AND NOT a.any_mh THEN a.mh_calls END AS mh_calls,
           CASE WHEN whole AND NOT a.any_wo THEN a.with_outcome END AS with_outcome,
           CASE WHEN whole AND NOT a.any_con THEN a.connected END AS connected,
           CASE WHEN whole AND NOT a.any_arr THEN a.arrests END AS arrests,
           CASE WHEN whole AND NOT a.any_uof THEN a.use_of_force END AS use_of_force,
           CASE WHEN whole AND NOT a.any_hold THEN a.involuntary_holds END AS involuntary_holds,
           CASE WHEN whole AND NOT a.any_rep THEN a.repeat_calls END AS repeat_calls,
           -- Distinct people do not add up over months: the period's own count, a small cell.
           CASE WHEN whole AND NOT a.any_rep THEN pmhc.protected_part(s.subjects, s.subjects, a.repeat_calls, pr.k) END
               AS repeat_subjects
      FROM periods pr
     CROSS JOIN LATERAL (SELECT pr.s = pg_catalog.date_trunc('month', pr.s)::date
                                AND pr.e = pg_catalog.date_trunc('month', pr.e)::date
                                AND pr.bs = pg_catalog.date_trunc('month', pr.bs)::date
                                AND pr.be = pg_catalog.date_trunc('month', pr.be)::date AS whole) w
     CROSS JOIN LATERAL (
         SELECT pg_catalog.count(*) AS months,
                coalesce(pg_catalog.sum(o.mh_calls), 0)::bigint AS mh_calls, pg_catalog.bool_or(o.mh_calls IS NULL) AS any_mh,
                coalesce(pg_catalog.sum(o.with_outcome), 0)::bigint AS with_outcome,
                pg_catalog.bool_or(o.with_outcome IS NULL) AS any_wo,
                coalesce(pg_catalog.sum(o.connected), 0)::bigint AS connected, pg_catalog.bool_or(o.connected IS NULL) AS any_con,
                coalesce(pg_catalog.sum(o.arrests), 0)::bigint AS arrests, pg_catalog.bool_or(o.arrests IS NULL) AS any_arr,
                coalesce(pg_catalog.sum(o.use_of_force), 0)::bigint AS use_of_force,
                pg_catalog.bool_or(o.use_of_force IS NULL) AS any_uof,
                coalesce(pg_catalog.sum(o.involuntary_holds), 0)::bigint AS involuntary_holds,
                pg_catalog.bool_or(o.involuntary_holds IS NULL) AS any_hold,
                coalesce(pg_catalog.sum(o.repeat_calls), 0)::bigint AS repeat_calls,
                pg_catalog.bool_or(o.repeat_calls IS NULL) AS any_rep
           FROM pmhc.outcomes_by_month o
          WHERE o.psap_id = pr.psap_id AND o.month >= pr.s AND o.month < pr.e
            AND (pr.period = 'baseline' OR NOT (o.month >= pr.bs AND o.month < pr.be))) a
     CROSS JOIN LATERAL (
         SELECT pg_catalog.count(DISTINCT f.subject_hash) AS subjects
           FROM pmhc.call_facts f
          WHERE f.psap_id = pr.psap_id AND f.mental_health_call AND f.repeat_encounter
            AND f.received_local >= pr.s AND f.received_local < pr.e
            AND (pr.period = 'baseline' OR NOT (f.received_local >= pr.bs AND f.received_local < pr.be))) s
     WHERE NOT pmhc.sees_exact_counts() AND a.months > 0
), agg AS (
    SELECT psap_id, period, days, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
           repeat_calls, repeat_subjects FROM exact
    UNION ALL
    SELECT psap_id, period, days, mh_calls, with_outcome, connected, arrests, use_of_force, involuntary_holds,
           repeat_calls, repeat_subjects FROM published
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
       pg_catalog.max(value) FILTER (WHERE period = 'baseline') AS baseline,
       pg_catalog.max(value) FILTER (WHERE period = 'current') AS current,
       pg_catalog.max(value) FILTER (WHERE period = 'current') - pg_catalog.max(value) FILTER (WHERE period = 'baseline')
           AS change,
       round((pg_catalog.max(value) FILTER (WHERE period = 'current')
              - pg_catalog.max(value) FILTER (WHERE period = 'baseline'))
             / nullif(pg_catalog.max(value) FILTER (WHERE period = 'baseline'), 0), 4) AS change_fraction,
       pg_catalog.min(ord) AS ord
  FROM measures GROUP BY psap_id, measure;
COMMENT ON VIEW pmhc.outcomes_baseline_vs_current IS
    'Each PSAP''s MH call volume and outcomes in the baseline period beside the current one (periods from pmhc.definitions), with the change. Order by psap_id, ord. For analysts each period is the sum of its published months (migration 013): NULL where a month it covers is hidden or the period is not whole months.';

-- The report's periods: for analysts the sum of the published months (rule 5), so
-- that two ranges that differ by a month never give that month's hidden count.
CREATE OR REPLACE FUNCTION pmhc.outcomes_for_months(p_psap text, p_from date, p_to date)
    RETURNS TABLE (mh_calls bigint, counted bigint, connected bigint, arrested bigint, used_force bigint,
                   involuntary_hold bigint, repeat_calls bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from <> date_trunc('month', p_from)::date
       OR p_to <> date_trunc('month', p_to)::date OR p_to <= p_from THEN
        RAISE EXCEPTION 'a period must run from the first of a month to the first of a later month (got % to %)',
            p_from, p_to USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- As a security definer this runs as the schema's owner: who may see exact
    -- counts is the login's question (a SET ROLE only narrows what it may do).
    IF pg_has_role(SESSION_USER, 'pmhc_case_reviewer', 'MEMBER') THEN
        RETURN QUERY
        SELECT count(*), count(*) FILTER (WHERE f.outcome_counted),
               count(*) FILTER (WHERE f.outcome_counted AND f.connected),
               count(*) FILTER (WHERE f.outcome_counted AND f.arrested),
               count(*) FILTER (WHERE f.outcome_counted AND f.used_force),
               count(*) FILTER (WHERE f.outcome_counted AND f.involuntary_hold),
               count(*) FILTER (WHERE f.repeat_encounter)
          FROM pmhc.call_facts f
         WHERE f.psap_id = p_psap AND f.mental_health_call
           AND f.received_local >= p_from AND f.received_local < p_to;
        RETURN;
    END IF;
    -- The owner is no case reviewer: outcomes_by_month reads suppressed here.
    RETURN QUERY
    SELECT CASE WHEN bool_or(o.mh_calls IS NULL) THEN NULL ELSE coalesce(sum(o.mh_calls), 0)::bigint END,
           CASE WHEN bool_or(o.with_outcome IS NULL) THEN NULL ELSE coalesce(sum(o.with_outcome), 0)::bigint END,
           CASE WHEN bool_or(o.connected IS NULL) THEN NULL ELSE coalesce(sum(o.connected), 0)::bigint END,
           CASE WHEN bool_or(o.arrests IS NULL) THEN NULL ELSE coalesce(sum(o.arrests), 0)::bigint END,
           CASE WHEN bool_or(o.use_of_force IS NULL) THEN NULL ELSE coalesce(sum(o.use_of_force), 0)::bigint END,
           CASE WHEN bool_or(o.involuntary_holds IS NULL) THEN NULL
                ELSE coalesce(sum(o.involuntary_holds), 0)::bigint END,
           CASE WHEN bool_or(o.repeat_calls IS NULL) THEN NULL ELSE coalesce(sum(o.repeat_calls), 0)::bigint END
      FROM pmhc.outcomes_by_month o
     WHERE o.psap_id = p_psap AND o.month >= p_from AND o.month < p_to;
END
$$;
COMMENT ON FUNCTION pmhc.outcomes_for_months(text, date, date) IS
    'MH calls and outcome counts of one PSAP between two month starts (local): for analysts the sum of the months outcomes_by_month publishes, NULL where any is hidden; exact for case reviewers.';

-- ---- breakdowns of a month (rules 2 and 3) ------------------------------------------------

-- Beats within the month (011), and nothing of a hidden month.
CREATE OR REPLACE VIEW pmhc.mh_calls_by_place WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month,
           coalesce(district, '') AS district, coalesce(beat, '') AS beat, pg_catalog.count(*) AS n,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3, 4
), margins AS (
    SELECT c.*, pg_catalog.count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(pg_catalog.sum(n) OVER (m ORDER BY n, district, beat ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
)
SELECT g.psap_id, g.month, g.district, g.beat,
       CASE WHEN mo.mh_calls IS NOT NULL THEN pmhc.protected_cell(g.n, g.k, g.small, g.before) END AS mh_calls
  FROM margins g JOIN pmhc.mh_calls_by_month mo USING (psap_id, month);

CREATE OR REPLACE VIEW pmhc.response_mix_by_month WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, response,
           pg_catalog.count(*) AS n, pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3
), margins AS (
    SELECT c.*, pg_catalog.count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(pg_catalog.sum(n) OVER (m ORDER BY n, response ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
)
SELECT g.psap_id, g.month, g.response,
       CASE WHEN mo.mh_calls IS NOT NULL THEN pmhc.protected_cell(g.n, g.k, g.small, g.before) END AS mh_calls
  FROM margins g JOIN pmhc.mh_calls_by_month mo USING (psap_id, month);

-- Services within the month: no view publishes their total, but a later one might.
CREATE OR REPLACE VIEW pmhc.referrals_service_unavailable WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month,
           coalesce(nullif(service_name, ''), '(not named)') AS service_name, pg_catalog.count(*) AS n,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND service_unavailable GROUP BY 1, 2, 3
), margins AS (
    SELECT c.*, pg_catalog.count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(pg_catalog.sum(n) OVER (m ORDER BY n, service_name ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
)
SELECT g.psap_id, g.month, g.service_name,
       CASE WHEN mo.mh_calls IS NOT NULL THEN pmhc.protected_cell(g.n, g.k, g.small, g.before) END AS mh_calls
  FROM margins g JOIN pmhc.mh_calls_by_month mo USING (psap_id, month);
COMMENT ON COLUMN pmhc.referrals_service_unavailable.mh_calls IS
    'MH calls where it was unavailable; NULL where small-cell or complementary suppression hides it (migration 013).';

-- The 911 calls are a part of the month's MH calls, the transfers a part of them.
CREATE OR REPLACE VIEW pmhc.diversions_911_to_988 WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, pg_catalog.count(*) AS n911,
           pg_catalog.count(*) FILTER (WHERE disposition_code = 'TRANSFERRED_988') AS t988,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND source = '911' GROUP BY 1, 2
), parts AS (
    SELECT c.*, pmhc.protected_part(c.n911, mo.mh_calls, mo.mh_calls, c.k) AS n911_s
      FROM cells c JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
), shown AS (
    SELECT p.*, pmhc.protected_part(t988, n911, n911_s, k) AS t988_s FROM parts p
)
SELECT psap_id, month, n911_s AS mh_calls_911, t988_s AS transferred_988,
       CASE WHEN n911_s IS NOT NULL AND t988_s IS NOT NULL THEN round(t988::numeric / n911, 4) END AS diversion_rate
  FROM shown;
COMMENT ON COLUMN pmhc.diversions_911_to_988.mh_calls_911 IS
    'MH calls that came in on 911; NULL where it or the month''s other MH calls are a small count, or the month is hidden (migration 013).';
COMMENT ON COLUMN pmhc.diversions_911_to_988.transferred_988 IS
    'Of those, transferred to 988 (disposition TRANSFERRED_988); NULL where it or the rest is a small count (migration 013).';
COMMENT ON COLUMN pmhc.diversions_911_to_988.diversion_rate IS 'transferred_988 / mh_calls_911; NULL when either is hidden.';

-- The month's MH calls with answers are a part of its MH calls; a question's
-- asked share and the agreement give their counts away (share times calls), so
-- each goes with its count as a part.
CREATE OR REPLACE VIEW pmhc.screening_fidelity WITH (security_barrier) AS
WITH m AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, pg_catalog.count(*) AS mh,
           ARRAY[pg_catalog.count(*) FILTER (WHERE substr(answers, 1, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 2, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 3, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 4, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 5, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 6, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 7, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 8, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 9, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 10, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 11, 1) <> '?'),
                 pg_catalog.count(*) FILTER (WHERE substr(answers, 12, 1) <> '?')] AS asked,
           pg_catalog.count(*) FILTER (WHERE disposition_mh IS NOT NULL) AS wd,
           pg_catalog.count(*) FILTER (WHERE screened_mh = disposition_mh) AS agreed,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.screening_facts
     WHERE mental_health_call
     GROUP BY 1, 2
), wholes AS (
    SELECT m.*, pmhc.protected_part(m.mh, mo.mh_calls, mo.mh_calls, m.k) AS mh_s
      FROM m JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
), parts AS (
    SELECT w.*, pmhc.protected_part(wd, mh, mh_s, k) AS wd_s FROM wholes w
)
SELECT psap_id, month, mh_s AS mh_calls, q.n AS question,
       CASE WHEN pmhc.protected_part(asked[q.n], mh, mh_s, k) IS NOT NULL THEN round(asked[q.n]::numeric / mh, 4) END
           AS asked_share,
       wd_s AS with_disposition,
       CASE WHEN pmhc.protected_part(agreed, wd, wd_s, k) IS NOT NULL THEN round(agreed::numeric / nullif(wd, 0), 4) END
           AS screening_agreed_share
  FROM parts CROSS JOIN pg_catalog.generate_series(1, 12) AS q(n);
COMMENT ON COLUMN pmhc.screening_fidelity.mh_calls IS
    'Mental-health calls in the month with their answers stored; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.screening_fidelity.asked_share IS
    'Share of the month''s MH calls on which the question was answered yes or no; NULL when the count behind it is hidden.';
COMMENT ON COLUMN pmhc.screening_fidelity.with_disposition IS
    'MH calls with a counted disposition (not cancelled, not no contact); NULL when hidden.';
COMMENT ON COLUMN pmhc.screening_fidelity.screening_agreed_share IS
    'Of those, the share where the call-taker''s MH screening matched the disposition''s; NULL when the count behind it is hidden.';

-- Call-takers within the month (011); their month's total is a part of the
-- month's MH calls, and nothing of a month whose total is hidden is shown.
CREATE OR REPLACE VIEW pmhc.screening_fidelity_by_call_taker WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month,
           encode(call_taker_hash, 'hex') AS call_taker, pg_catalog.count(*) AS n,
           round(pg_catalog.avg((length(replace(answers, '?', '')))::numeric / 12), 4) AS asked,
           round(pg_catalog.count(*) FILTER (WHERE screened_mh = disposition_mh)::numeric
                 / nullif(pg_catalog.count(*) FILTER (WHERE disposition_mh IS NOT NULL), 0), 4) AS agreed,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.screening_facts
     WHERE mental_health_call AND call_taker_hash IS NOT NULL
     GROUP BY 1, 2, 3
), margins AS (
    SELECT c.*, pg_catalog.count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(pg_catalog.sum(n) OVER (m ORDER BY n, call_taker ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    0)::bigint AS before,
           pg_catalog.sum(n) OVER m AS total
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
), shown AS (
    SELECT g.*, CASE WHEN pmhc.protected_part(g.total::bigint, mo.mh_calls, mo.mh_calls, g.k) IS NOT NULL
                     THEN pmhc.protected_cell(g.n, g.k, g.small, g.before) END AS mh_calls
      FROM margins g JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
)
SELECT psap_id, month, call_taker, mh_calls,
       CASE WHEN mh_calls IS NULL THEN NULL ELSE asked END AS asked_share,
       CASE WHEN mh_calls IS NULL THEN NULL ELSE agreed END AS screening_agreed_share
  FROM shown;

-- ---- the live cross-tabs over the whole history (rule 3) ------------------------------------

-- Response by disposition: margins the response (response_mix_by_month adds up
-- to it over the months) and the disposition code.
CREATE OR REPLACE VIEW pmhc.recommended_vs_disposition WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, response, coalesce(disposition_code, '(open)') AS disposition_code, pg_catalog.count(*) AS n,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0) AS wu,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids <@ units_went) AS went_all,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids && units_went
                                       AND NOT unit_ids <@ units_went) AS went_some,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND units_went IS NOT NULL
                                       AND NOT unit_ids && units_went) AS went_none,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3
), in_response AS (
    SELECT c.*,
           pmhc.protected_cell(n, k, pg_catalog.count(*) FILTER (WHERE n < k) OVER r,
               coalesce(pg_catalog.sum(n) OVER (r ORDER BY n, disposition_code ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS n1
      FROM cells c WINDOW r AS (PARTITION BY psap_id, response)
), in_code AS (
    SELECT c.*,
           pmhc.second_margin_cell(n1, k, pg_catalog.sum(n) FILTER (WHERE n1 IS NULL) OVER d,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, disposition_code, n1 IS NULL ORDER BY n, response)) AS n2
      FROM in_response c WINDOW d AS (PARTITION BY psap_id, disposition_code)
), parts AS (
    SELECT c.*, pmhc.protected_part(wu, n, n2, k) AS wu_s FROM in_code c
)
SELECT psap_id, response, disposition_code, n2 AS calls, wu_s AS with_units,
       pmhc.protected_part(went_all, wu, wu_s, k) AS all_recommended_went,
       pmhc.protected_part(went_some, wu, wu_s, k) AS some_recommended_went,
       pmhc.protected_part(went_none, wu, wu_s, k) AS none_recommended_went
  FROM parts;

-- Beat by hour: margins the hour of the day (the hours of mh_calls_by_hour_weekday
-- add up to it) and the beat (mh_calls_by_place over the months).
CREATE OR REPLACE VIEW pmhc.fallbacks_by_hour_beat WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, coalesce(beat, '') AS beat, pg_catalog.date_part('hour', received_local)::int AS hour,
           pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE fallback_used) AS fb,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3
), in_hour AS (
    SELECT c.*,
           pmhc.protected_cell(n, k, pg_catalog.count(*) FILTER (WHERE n < k) OVER h,
               coalesce(pg_catalog.sum(n) OVER (h ORDER BY n, beat ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS n1
      FROM cells c WINDOW h AS (PARTITION BY psap_id, hour)
), in_beat AS (
    SELECT c.*,
           pmhc.second_margin_cell(n1, k, pg_catalog.sum(n) FILTER (WHERE n1 IS NULL) OVER b,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, beat, n1 IS NULL ORDER BY n, hour)) AS n2
      FROM in_hour c WINDOW b AS (PARTITION BY psap_id, beat)
), parts AS (
    SELECT c.*, pmhc.protected_part(fb, n, n2, k) AS fb_s FROM in_beat c
)
SELECT psap_id, beat, hour, n2 AS mh_calls, fb_s AS fallbacks,
       CASE WHEN n2 IS NOT NULL AND fb_s IS NOT NULL THEN round(fb::numeric / n, 4) END AS fallback_rate
  FROM parts;
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.mh_calls IS
    'Live MH calls; NULL where small-cell or complementary suppression hides it (migration 013).';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallbacks IS
    'Of those, calls where a fallback was needed or a need went unfilled; NULL where it or the rest is a small count.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallback_rate IS 'fallbacks / mh_calls; NULL when either is hidden.';

-- Codes within the (UTC) month: no view publishes their total, but a later one might.
CREATE OR REPLACE VIEW pmhc.unknown_nature_codes WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_at)::date AS month, nature_code_mapped,
           pg_catalog.count(*) AS n, pmhc.reader_threshold(pmhc.definition(psap_id, 'small_cell_threshold')::int) AS k
      FROM pmhc.calls
     WHERE nature_known = false AND nature_code_mapped <> ''
     GROUP BY 1, 2, 3
), margins AS (
    SELECT c.*, pg_catalog.count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(pg_catalog.sum(n) OVER (m ORDER BY n, nature_code_mapped ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                    0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
)
SELECT psap_id, month, nature_code_mapped, pmhc.protected_cell(n, k, small, before) AS calls FROM margins;
COMMENT ON COLUMN pmhc.unknown_nature_codes.calls IS
    'Calls that carried it; NULL where small-cell or complementary suppression hides it (migration 013).';
