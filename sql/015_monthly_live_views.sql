-- 015: the live cross-tabs by month (issue 17). Migration 013 protected
-- recommended_vs_disposition and fallbacks_by_hour_beat over the whole history, so
-- a response's, a disposition code's and a beat's all-time totals were published
-- beside the monthly views they add up to (response_mix_by_month,
-- mh_calls_by_place), whose cells are protected month by month only: a month's
-- hidden cell came back as the all-time total minus the months shown when it was
-- the only one hidden. Here both views are monthly, so no all-time total exists:
--   - a cell is the PSAP's local month and the old breakdown, protected within the
--     month (rule 3 of 013): recommended_vs_disposition the month's response then
--     its disposition code; fallbacks_by_hour_beat the month's hour then its beat;
--   - the month's response row and the month's beat row add up to a cell of
--     response_mix_by_month and of mh_calls_by_place (where nothing was
--     backfilled): where that cell is hidden, the row is hidden whole, as
--     everything of a hidden month is (rule 2);
--   - the hours of fallbacks_by_hour_beat still add up, over the months, to an hour
--     of the day mh_calls_by_hour_weekday publishes over the whole history: that
--     hour is a third margin across the months (its smallest shown cell hidden when
--     its hidden cells add up to 1 to k - 1);
--   - a coarser figure (a period, all time) is the sum of the shown monthly cells,
--     NULL when any is hidden (rule 5); pmhc-report sums them so.
-- Every margin added hides shown cells, each at least the threshold, so no margin
-- protected before is broken by it. The column month comes second, as in the other
-- monthly views: CREATE OR REPLACE cannot insert a column, so the views are dropped
-- and made again with their grants, comments and security barrier.
SET LOCAL search_path = pg_catalog, pg_temp;

DROP VIEW pmhc.recommended_vs_disposition;
DROP VIEW pmhc.fallbacks_by_hour_beat;

CREATE VIEW pmhc.recommended_vs_disposition WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, response,
           coalesce(disposition_code, '(open)') AS disposition_code, pg_catalog.count(*) AS n,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0) AS wu,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids <@ units_went) AS went_all,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND unit_ids && units_went
                                       AND NOT unit_ids <@ units_went) AS went_some,
           pg_catalog.count(*) FILTER (WHERE cardinality(unit_ids) > 0 AND units_went IS NOT NULL
                                       AND NOT unit_ids && units_went) AS went_none,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3, 4
), in_response AS (
    SELECT c.*,
           pmhc.protected_cell(n, k, pg_catalog.count(*) FILTER (WHERE n < k) OVER r,
               coalesce(pg_catalog.sum(n) OVER (r ORDER BY n, disposition_code ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS n1
      FROM cells c WINDOW r AS (PARTITION BY psap_id, month, response)
), in_code AS (
    SELECT c.*,
           pmhc.second_margin_cell(n1, k, pg_catalog.sum(n) FILTER (WHERE n1 IS NULL) OVER d,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, month, disposition_code, n1 IS NULL
                                             ORDER BY n, response)) AS n2
      FROM in_response c WINDOW d AS (PARTITION BY psap_id, month, disposition_code)
), in_mix AS (
    -- The month's response row adds up to its response_mix_by_month cell.
    SELECT c.*, CASE WHEN mo.mh_calls IS NOT NULL AND mx.mh_calls IS NOT NULL THEN c.n2 END AS n3
      FROM in_code c JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
      LEFT JOIN pmhc.response_mix_by_month mx USING (psap_id, month, response)
), parts AS (
    SELECT c.*, pmhc.protected_part(wu, n, n3, k) AS wu_s FROM in_mix c
)
SELECT psap_id, month, response, disposition_code, n3 AS calls, wu_s AS with_units,
       pmhc.protected_part(went_all, wu, wu_s, k) AS all_recommended_went,
       pmhc.protected_part(went_some, wu, wu_s, k) AS some_recommended_went,
       pmhc.protected_part(went_none, wu, wu_s, k) AS none_recommended_went
  FROM parts;
COMMENT ON VIEW pmhc.recommended_vs_disposition IS
    'Live MH calls per local month by recommended response and disposition code, and whether the recommended units are the ones that went; small and complementary counts NULL for analysts (migration 015). A longer span is the sum of its months, hidden when any is.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.psap_id IS 'The answering point (PSAP) that took the calls.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.month IS 'The first day of the local month.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.response IS 'The recommended response.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.disposition_code IS 'The disposition code, or (open) when none arrived yet.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.calls IS
    'Live MH calls with this response and disposition code; NULL where small-cell or complementary suppression hides it, or the month''s response is hidden in response_mix_by_month (migration 015).';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.with_units IS
    'Calls for which pmhcd recommended at least one unit; NULL where it or the rest is a small count, or calls is hidden.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.all_recommended_went IS 'Every recommended unit went; NULL as with_units.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.some_recommended_went IS 'Some, not all, of the recommended units went; NULL as with_units.';
COMMENT ON COLUMN pmhc.recommended_vs_disposition.none_recommended_went IS
    'A disposition names the units that went, and none was recommended; NULL as with_units.';

CREATE VIEW pmhc.fallbacks_by_hour_beat WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, pg_catalog.date_trunc('month', received_local)::date AS month, coalesce(beat, '') AS beat,
           pg_catalog.date_part('hour', received_local)::int AS hour,
           pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE fallback_used) AS fb,
           pmhc.reader_threshold(pg_catalog.min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call AND NOT backfilled GROUP BY 1, 2, 3, 4
), in_hour AS (
    SELECT c.*,
           pmhc.protected_cell(n, k, pg_catalog.count(*) FILTER (WHERE n < k) OVER h,
               coalesce(pg_catalog.sum(n) OVER (h ORDER BY n, beat ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0)::bigint) AS n1
      FROM cells c WINDOW h AS (PARTITION BY psap_id, month, hour)
), in_beat AS (
    SELECT c.*,
           pmhc.second_margin_cell(n1, k, pg_catalog.sum(n) FILTER (WHERE n1 IS NULL) OVER b,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, month, beat, n1 IS NULL ORDER BY n, hour)) AS n2
      FROM in_hour c WINDOW b AS (PARTITION BY psap_id, month, beat)
), places AS (
    SELECT psap_id, month, beat, pg_catalog.bool_or(mh_calls IS NULL) AS any_hidden
      FROM pmhc.mh_calls_by_place GROUP BY 1, 2, 3
), in_place AS (
    -- The month's beat row adds up to its mh_calls_by_place cells (over districts).
    SELECT c.*, CASE WHEN mo.mh_calls IS NOT NULL AND p.any_hidden IS FALSE THEN c.n2 END AS n3
      FROM in_beat c JOIN pmhc.mh_calls_by_month mo USING (psap_id, month)
      LEFT JOIN places p USING (psap_id, month, beat)
), in_day_hour AS (
    -- An hour of the day over all months and beats: mh_calls_by_hour_weekday's hour.
    SELECT c.*,
           pmhc.second_margin_cell(n3, k, pg_catalog.sum(n) FILTER (WHERE n3 IS NULL) OVER a,
               pg_catalog.row_number() OVER (PARTITION BY psap_id, hour, n3 IS NULL OR n3 = 0
                                             ORDER BY n, month, beat)) AS n4
      FROM in_place c WINDOW a AS (PARTITION BY psap_id, hour)
), parts AS (
    SELECT c.*, pmhc.protected_part(fb, n, n4, k) AS fb_s FROM in_day_hour c
)
SELECT psap_id, month, beat, hour, n4 AS mh_calls, fb_s AS fallbacks,
       CASE WHEN n4 IS NOT NULL AND fb_s IS NOT NULL THEN round(fb::numeric / n, 4) END AS fallback_rate
  FROM parts;
COMMENT ON VIEW pmhc.fallbacks_by_hour_beat IS
    'Live MH calls per local month, beat and local hour, and how many needed a fallback (a needed kind of unit was not free); small and complementary counts NULL for analysts (migration 015). A longer span is the sum of its months, hidden when any is.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.psap_id IS 'The answering point (PSAP) that took the calls.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.month IS 'The first day of the local month.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.beat IS 'Beat ('''' when the CAD gave none).';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.hour IS 'Local hour of day, 0-23.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.mh_calls IS
    'Live MH calls; NULL where small-cell or complementary suppression hides it, or the month''s beat is hidden in mh_calls_by_place (migration 015).';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallbacks IS
    'Of those, calls where a fallback was needed or a need went unfilled; NULL where it or the rest is a small count.';
COMMENT ON COLUMN pmhc.fallbacks_by_hour_beat.fallback_rate IS 'fallbacks / mh_calls; NULL when either is hidden.';

GRANT SELECT ON pmhc.recommended_vs_disposition, pmhc.fallbacks_by_hour_beat TO pmhc_analyst;
