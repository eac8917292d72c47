-- 005: who may see what. Roles are cluster-wide, so they are created only when
-- missing (another database on the server may have made them already).
--   pmhc_analyst: reads the outcome views and the definitions (and may edit the
--                 definitions); nothing that holds a subject hash.
--   pmhc_writer:  what the daemon needs to write calls, decisions and dispositions.
-- Grant them to login roles:  GRANT pmhc_analyst TO alice;  GRANT pmhc_writer TO pmhcd;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pmhc_analyst') THEN
        CREATE ROLE pmhc_analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pmhc_writer') THEN
        CREATE ROLE pmhc_writer NOLOGIN;
    END IF;
END $$;

COMMENT ON ROLE pmhc_analyst IS 'pmhcd: reads the outcome views in schema pmhc; no access to subject hashes.';
COMMENT ON ROLE pmhc_writer IS 'pmhcd: the daemon''s writes to schema pmhc.';

GRANT USAGE ON SCHEMA pmhc TO pmhc_analyst, pmhc_writer;

-- The analyst sees aggregates and per-call outcomes, never pmhc.calls (subject_hash)
-- nor pmhc.call_facts (subject_hash).
GRANT SELECT ON pmhc.mh_call_outcomes, pmhc.mh_calls_by_day, pmhc.mh_calls_by_week,
    pmhc.mh_calls_by_month, pmhc.mh_calls_by_place, pmhc.mh_calls_by_hour_weekday,
    pmhc.outcomes_by_month, pmhc.outcomes_baseline_vs_current, pmhc.referrals_service_unavailable,
    pmhc.recommended_vs_disposition, pmhc.fallbacks_by_hour_beat, pmhc.diversions_911_to_988,
    pmhc.effective_definitions
    TO pmhc_analyst;
GRANT SELECT, INSERT, UPDATE, DELETE ON pmhc.definitions TO pmhc_analyst;
GRANT EXECUTE ON FUNCTION pmhc.small_cell(bigint, int) TO pmhc_analyst;

GRANT SELECT, INSERT, UPDATE ON pmhc.calls, pmhc.decisions, pmhc.dispositions, pmhc.rejected_events
    TO pmhc_writer;
GRANT SELECT ON pmhc.schema_migrations, pmhc.definitions TO pmhc_writer;

-- New functions are executable by PUBLIC by default; keep the schema's closed.
REVOKE ALL ON ALL TABLES IN SCHEMA pmhc FROM PUBLIC;
