-- 010: least privilege. pmhcd --migrate, run by a DBA's role, applies this; the
-- daemon's own LOGIN role is only a member of pmhc_writer and owns nothing.
-- The roles (NOLOGIN, cluster-wide) are made by pmhcd --migrate before any
-- migration, and everything in schema pmhc is handed to pmhc_owner after each:
--   pmhc_owner          owns schema pmhc; nobody logs in as it
--   pmhc_writer         the daemon: writes calls, decisions, dispositions,
--                       rejected events and unit statuses; reads the versions
--   pmhc_analyst        reads the aggregate views and the definitions
--   pmhc_admin          edits pmhc.definitions
--   pmhc_case_reviewer  reads the per-call drill-down and unit_status
-- Grant them to LOGIN roles:  GRANT pmhc_writer TO pmhcd;  GRANT pmhc_analyst TO alice;
--
-- search_path is pinned for the DBA's session (pmhcd --migrate sets it before
-- every migration too): nothing a user planted in public is ever picked.
SET LOCAL search_path = pg_catalog, pg_temp;

-- Start from nothing: earlier migrations granted more (the analyst could edit
-- the definitions and read every MH call and every unit's position).
REVOKE ALL ON SCHEMA pmhc FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA pmhc
    FROM PUBLIC, pmhc_writer, pmhc_analyst, pmhc_admin, pmhc_case_reviewer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pmhc
    FROM PUBLIC, pmhc_writer, pmhc_analyst, pmhc_admin, pmhc_case_reviewer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pmhc
    FROM PUBLIC, pmhc_writer, pmhc_analyst, pmhc_admin, pmhc_case_reviewer;
-- Whatever pmhc_owner creates later is closed to PUBLIC until granted.
ALTER DEFAULT PRIVILEGES FOR ROLE pmhc_owner IN SCHEMA pmhc REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA pmhc TO pmhc_writer, pmhc_analyst, pmhc_admin, pmhc_case_reviewer;

-- The daemon: INSERT for COPY and new rows, UPDATE and SELECT for the upserts
-- (ON CONFLICT ... DO UPDATE ... WHERE reads the stored row), SELECT on the
-- versions it checks at start. No DELETE, no TRUNCATE, nothing else.
GRANT SELECT, INSERT, UPDATE ON pmhc.calls, pmhc.decisions, pmhc.dispositions, pmhc.rejected_events
    TO pmhc_writer;
GRANT SELECT, INSERT ON pmhc.unit_status TO pmhc_writer;
GRANT SELECT ON pmhc.schema_migrations TO pmhc_writer;

-- Analysts: aggregates and the definitions in force, read only.
GRANT SELECT ON pmhc.mh_calls_by_day, pmhc.mh_calls_by_week, pmhc.mh_calls_by_month,
    pmhc.mh_calls_by_place, pmhc.mh_calls_by_hour_weekday, pmhc.outcomes_by_month,
    pmhc.outcomes_baseline_vs_current, pmhc.referrals_service_unavailable,
    pmhc.recommended_vs_disposition, pmhc.fallbacks_by_hour_beat, pmhc.diversions_911_to_988,
    pmhc.screening_fidelity, pmhc.screening_fidelity_by_call_taker, pmhc.unknown_nature_codes,
    pmhc.definitions, pmhc.effective_definitions
    TO pmhc_analyst;
-- A view reads tables as its owner but calls functions as the reader.
GRANT EXECUTE ON FUNCTION pmhc.small_cell(bigint, int) TO pmhc_analyst;
-- The definition in force (migration 009): the writer's trigger sets each call's
-- local time from it as the call is written, and the volume views read it.
GRANT SELECT ON pmhc.definitions TO pmhc_writer, pmhc_case_reviewer;
GRANT EXECUTE ON FUNCTION pmhc.definition(text, text)
    TO pmhc_writer, pmhc_analyst, pmhc_admin, pmhc_case_reviewer;

-- The definitions change every figure: only an administrator edits them.
GRANT SELECT, INSERT, UPDATE, DELETE ON pmhc.definitions TO pmhc_admin;
GRANT SELECT ON pmhc.effective_definitions TO pmhc_admin;

-- One call at a time, and where units were: a case reviewer's, not an analyst's.
GRANT SELECT ON pmhc.mh_call_outcomes, pmhc.unit_status TO pmhc_case_reviewer;

-- Function bodies are resolved when they run, with the caller's search_path:
-- pin it. small_cell is inlined into the views, which a SET clause would
-- prevent: its body is instead parsed once, here, with the path pinned.
ALTER FUNCTION pmhc.definitions_check() SET search_path = pg_catalog, pg_temp;
CREATE OR REPLACE FUNCTION pmhc.small_cell(n bigint, threshold int) RETURNS bigint
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT CASE WHEN n > 0 AND n < threshold THEN NULL ELSE n END;
END;
