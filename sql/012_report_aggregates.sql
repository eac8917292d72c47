-- 012: what pmhc-report took from the per-call drill-down, as aggregates an
-- analyst may read. Migration 011 gave pmhc.mh_call_outcomes to case
-- reviewers only; the report needs a month's mix of responses and the outcome
-- counts of its two periods (the two-proportion test wants counts, not rates).

-- The responses of a month sum to the month's MH calls (mh_calls_by_month): the
-- margin is the PSAP's month, protected as in mh_calls_by_place.
CREATE VIEW pmhc.response_mix_by_month WITH (security_barrier) AS
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
SELECT psap_id, month, response, pmhc.protected_cell(n, k, small, before) AS mh_calls FROM margins;
COMMENT ON VIEW pmhc.response_mix_by_month IS
    'MH calls per local month and recommended response, small and complementary cells suppressed for analysts.';
COMMENT ON COLUMN pmhc.response_mix_by_month.psap_id IS 'The PSAP.';
COMMENT ON COLUMN pmhc.response_mix_by_month.month IS 'The first day of the local month.';
COMMENT ON COLUMN pmhc.response_mix_by_month.response IS 'The response pmhcd recommended.';
COMMENT ON COLUMN pmhc.response_mix_by_month.mh_calls IS
    'MH calls; NULL where small-cell or complementary suppression hides the count (migration 011).';

-- One period's outcome counts. Whole local months only: two periods that differ
-- by a day would otherwise give away that day's counts, finer than anything an
-- analyst reads elsewhere. A count below the PSAP's threshold (at least the
-- floor) is NULL. It reads call_facts as its owner, so it is a security
-- definer with its own search_path and every name qualified.
CREATE FUNCTION pmhc.outcomes_for_months(p_psap text, p_from date, p_to date)
    RETURNS TABLE (mh_calls bigint, counted bigint, connected bigint, arrested bigint, used_force bigint,
                   involuntary_hold bigint, repeat_calls bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k int;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_from <> date_trunc('month', p_from)::date
       OR p_to <> date_trunc('month', p_to)::date OR p_to <= p_from THEN
        RAISE EXCEPTION 'a period must run from the first of a month to the first of a later month (got % to %)',
            p_from, p_to USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT pmhc.reader_threshold(e.small_cell_threshold) INTO k
      FROM pmhc.effective_definitions e WHERE e.psap_id IN (p_psap, '*')
     ORDER BY e.psap_id = p_psap DESC LIMIT 1;
    -- reader_threshold sees this function's owner: suppress at least at the floor.
    k := greatest(coalesce(k, pmhc.small_cell_floor()), pmhc.small_cell_floor());
    RETURN QUERY
    SELECT pmhc.small_cell(count(*), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.outcome_counted), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.outcome_counted AND f.connected), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.outcome_counted AND f.arrested), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.outcome_counted AND f.used_force), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.outcome_counted AND f.involuntary_hold), k),
           pmhc.small_cell(count(*) FILTER (WHERE f.repeat_encounter), k)
      FROM pmhc.call_facts f
     WHERE f.psap_id = p_psap AND f.mental_health_call
       AND f.received_local >= p_from AND f.received_local < p_to;
END
$$;
COMMENT ON FUNCTION pmhc.outcomes_for_months(text, date, date) IS
    'MH calls and outcome counts of one PSAP between two month starts (local), small counts NULL: what the report''s two-proportion test needs.';
REVOKE ALL ON FUNCTION pmhc.outcomes_for_months(text, date, date) FROM PUBLIC;

GRANT SELECT ON pmhc.response_mix_by_month TO pmhc_analyst, pmhc_case_reviewer;
GRANT EXECUTE ON FUNCTION pmhc.outcomes_for_months(text, date, date) TO pmhc_analyst, pmhc_case_reviewer;
