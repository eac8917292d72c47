-- 011: analysts see aggregates only. With 010 the analyst reads and nothing
-- more, the per-call drill-down and unit positions are a case reviewer's, and
-- only an administrator edits the definitions. Here:
--   every change to a definition is kept (who, when, old, new);
--   the small-cell threshold has a floor of 11, by a CHECK, and 11 is the
--     default: nobody turns suppression off, not even an administrator;
--   the views that suppress small cells also suppress complementary cells, so
--     that no suppressed count is recovered by subtracting the shown ones from
--     the total another view publishes;
--   every view an analyst reads is a security_barrier view.
SET LOCAL search_path = pg_catalog, pg_temp;

-- ---- the definitions' history ---------------------------------------------

CREATE TABLE pmhc.definitions_history (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by name        NOT NULL,
    operation  text        NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    psap_id    text        NOT NULL,
    key        text        NOT NULL,
    old_value  text,
    new_value  text
);
COMMENT ON TABLE pmhc.definitions_history IS
    'Every change to pmhc.definitions, kept by a trigger: who, when, the old and the new value. Nobody may write it directly.';
COMMENT ON COLUMN pmhc.definitions_history.id IS 'Order of the changes.';
COMMENT ON COLUMN pmhc.definitions_history.changed_at IS 'When the change was made (the transaction''s start).';
COMMENT ON COLUMN pmhc.definitions_history.changed_by IS 'The login role that made it (session_user: a SET ROLE does not hide it).';
COMMENT ON COLUMN pmhc.definitions_history.operation IS 'INSERT, UPDATE or DELETE.';
COMMENT ON COLUMN pmhc.definitions_history.psap_id IS 'The PSAP of the definition, or ''*''.';
COMMENT ON COLUMN pmhc.definitions_history.key IS 'The definition''s key.';
COMMENT ON COLUMN pmhc.definitions_history.old_value IS 'The value before; NULL for an INSERT.';
COMMENT ON COLUMN pmhc.definitions_history.new_value IS 'The value after; NULL for a DELETE.';

-- SECURITY DEFINER: it writes as pmhc_owner, so an administrator needs (and
-- has) no privilege on the history and cannot forge or erase an entry.
CREATE FUNCTION pmhc.definitions_log() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO pmhc.definitions_history (changed_by, operation, psap_id, key, old_value)
        VALUES (SESSION_USER, TG_OP, OLD.psap_id, OLD.key, OLD.value);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO pmhc.definitions_history (changed_by, operation, psap_id, key, new_value)
        VALUES (SESSION_USER, TG_OP, NEW.psap_id, NEW.key, NEW.value);
    ELSIF (OLD.psap_id, OLD.key, OLD.value) IS DISTINCT FROM (NEW.psap_id, NEW.key, NEW.value) THEN
        INSERT INTO pmhc.definitions_history (changed_by, operation, psap_id, key, old_value, new_value)
        VALUES (SESSION_USER, TG_OP, NEW.psap_id, NEW.key, OLD.value, NEW.value);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION pmhc.definitions_log() IS 'Keeps every change to pmhc.definitions in pmhc.definitions_history.';
REVOKE ALL ON FUNCTION pmhc.definitions_log() FROM PUBLIC;

CREATE TRIGGER definitions_log AFTER INSERT OR UPDATE OR DELETE ON pmhc.definitions
    FOR EACH ROW EXECUTE FUNCTION pmhc.definitions_log();

GRANT SELECT ON pmhc.definitions_history TO pmhc_admin, pmhc_analyst;

-- ---- the small-cell floor --------------------------------------------------

-- The floor, in one place: the CHECK and the views use it.
CREATE FUNCTION pmhc.small_cell_floor() RETURNS int LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT 11;
END;
COMMENT ON FUNCTION pmhc.small_cell_floor() IS 'The lowest small-cell threshold anything published may use: 11.';

-- Raised before the CHECK comes, and kept in the history like any change.
UPDATE pmhc.definitions SET value = pmhc.small_cell_floor()::text
 WHERE key = 'small_cell_threshold'
   AND CASE WHEN value ~ '^[0-9]{1,6}$' THEN value::int < pmhc.small_cell_floor() ELSE true END;

ALTER TABLE pmhc.definitions ADD CONSTRAINT definitions_small_cell_floor
    CHECK (key <> 'small_cell_threshold'
           OR CASE WHEN value ~ '^[0-9]{1,6}$' THEN value::int >= pmhc.small_cell_floor() ELSE false END);

COMMENT ON COLUMN pmhc.definitions.key IS 'repeat_threshold (calls, at least 2), repeat_window_days (days of 24 h), baseline_start/baseline_end and current_start/current_end (local dates, start included, end excluded), time_zone (IANA name), small_cell_threshold (counts below it are suppressed in the views that suppress small cells; at least 11, the default).';
COMMENT ON COLUMN pmhc.effective_definitions.small_cell_threshold IS 'Counts from 1 to this minus one are shown as NULL where small cells are suppressed (at least 11).';

-- ---- complementary suppression ---------------------------------------------

-- Case reviewers read every call anyway (and so does the DBA): exact counts
-- tell them nothing new. Everyone else gets the suppressed ones.
CREATE FUNCTION pmhc.sees_exact_counts() RETURNS boolean LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT pg_catalog.pg_has_role(CURRENT_USER, 'pmhc_case_reviewer', 'MEMBER');
END;
COMMENT ON FUNCTION pmhc.sees_exact_counts() IS
    'Whether the reader sees unsuppressed counts: members of pmhc_case_reviewer (and superusers).';

-- One cell of a margin (the cells that sum to a total published elsewhere).
-- small: how many cells of the margin are below the threshold; before: the sum
-- of the margin's cells that come before this one, smallest first. A margin
-- with no small cell shows everything; otherwise the smallest cells are
-- hidden until what is hidden adds up to the threshold at least, so that the
-- total minus the shown cells is never a count below it. 0 is always shown.
CREATE FUNCTION pmhc.protected_cell(n bigint, threshold int, small bigint, before bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT CASE WHEN n = 0 OR small = 0 THEN n
                WHEN n < threshold OR before < threshold THEN NULL
                ELSE n END;
END;
COMMENT ON FUNCTION pmhc.protected_cell(bigint, int, bigint, bigint) IS
    'A cell of a margin, NULL when small-cell or complementary suppression hides it (see migration 011).';

-- The threshold a reader's counts are suppressed at: the PSAP's, never below the floor; 0 for exact readers.
CREATE FUNCTION pmhc.reader_threshold(psap_threshold int) RETURNS int LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT CASE WHEN pmhc.sees_exact_counts() THEN 0
                ELSE GREATEST(coalesce(psap_threshold, pmhc.small_cell_floor()), pmhc.small_cell_floor()) END;
END;
COMMENT ON FUNCTION pmhc.reader_threshold(int) IS
    'The small-cell threshold for the current reader: the PSAP''s, at least the floor; 0 for case reviewers.';

GRANT EXECUTE ON FUNCTION pmhc.small_cell_floor(), pmhc.sees_exact_counts(),
    pmhc.protected_cell(bigint, int, bigint, bigint), pmhc.reader_threshold(int) TO pmhc_analyst;

-- Beats in a month sum to the month's MH calls (mh_calls_by_month): the margin
-- is the PSAP's month.
CREATE OR REPLACE VIEW pmhc.mh_calls_by_place WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, date_trunc('month', received_local)::date AS month,
           coalesce(district, '') AS district, coalesce(beat, '') AS beat, count(*) AS n,
           pmhc.reader_threshold(min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3, 4
), margins AS (
    SELECT c.*, count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(sum(n) OVER (m ORDER BY n, district, beat ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
)
SELECT psap_id, month, district, beat, pmhc.protected_cell(n, k, small, before) AS mh_calls FROM margins;

-- The hours of a weekday sum to that weekday's MH calls, which the days of
-- mh_calls_by_day add up to: the margin is the PSAP's weekday. (Every
-- weekday's margin protected protects the grand total too.)
CREATE OR REPLACE VIEW pmhc.mh_calls_by_hour_weekday WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, extract(isodow FROM received_local)::int AS isodow,
           to_char(received_local, 'Dy') AS weekday, extract(hour FROM received_local)::int AS hour,
           count(*) AS n, pmhc.reader_threshold(min(small_cell_threshold)) AS k
      FROM pmhc.call_facts WHERE mental_health_call GROUP BY 1, 2, 3, 4
), margins AS (
    SELECT c.*, count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(sum(n) OVER (m ORDER BY n, hour ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, isodow)
)
SELECT psap_id, isodow, weekday, hour, pmhc.protected_cell(n, k, small, before) AS mh_calls FROM margins;

-- Call-takers in a month sum to the month's MH calls with answers
-- (screening_fidelity): the margin is the PSAP's month, and a hidden cell's
-- shares go with it.
CREATE OR REPLACE VIEW pmhc.screening_fidelity_by_call_taker WITH (security_barrier) AS
WITH cells AS (
    SELECT psap_id, date_trunc('month', received_local)::date AS month,
           encode(call_taker_hash, 'hex') AS call_taker, count(*) AS n,
           round(avg((length(replace(answers, '?', '')))::numeric / 12), 4) AS asked,
           round(count(*) FILTER (WHERE screened_mh = disposition_mh)::numeric
                 / nullif(count(*) FILTER (WHERE disposition_mh IS NOT NULL), 0), 4) AS agreed,
           pmhc.reader_threshold(min(small_cell_threshold)) AS k
      FROM pmhc.screening_facts
     WHERE mental_health_call AND call_taker_hash IS NOT NULL
     GROUP BY 1, 2, 3
), margins AS (
    SELECT c.*, count(*) FILTER (WHERE n < k) OVER m AS small,
           coalesce(sum(n) OVER (m ORDER BY n, call_taker ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::bigint AS before
      FROM cells c WINDOW m AS (PARTITION BY psap_id, month)
), shown AS (
    SELECT m.*, pmhc.protected_cell(n, k, small, before) AS mh_calls FROM margins m
)
SELECT psap_id, month, call_taker, mh_calls,
       CASE WHEN mh_calls IS NULL THEN NULL ELSE asked END AS asked_share,
       CASE WHEN mh_calls IS NULL THEN NULL ELSE agreed END AS screening_agreed_share
  FROM shown;

-- ---- security barriers ---------------------------------------------------

-- No function an analyst passes in a WHERE clause sees a row before the
-- view's own conditions and aggregates have run.
ALTER VIEW pmhc.mh_calls_by_day SET (security_barrier = true);
ALTER VIEW pmhc.mh_calls_by_week SET (security_barrier = true);
ALTER VIEW pmhc.mh_calls_by_month SET (security_barrier = true);
ALTER VIEW pmhc.outcomes_by_month SET (security_barrier = true);
ALTER VIEW pmhc.outcomes_baseline_vs_current SET (security_barrier = true);
ALTER VIEW pmhc.referrals_service_unavailable SET (security_barrier = true);
ALTER VIEW pmhc.recommended_vs_disposition SET (security_barrier = true);
ALTER VIEW pmhc.fallbacks_by_hour_beat SET (security_barrier = true);
ALTER VIEW pmhc.diversions_911_to_988 SET (security_barrier = true);
ALTER VIEW pmhc.screening_fidelity SET (security_barrier = true);
ALTER VIEW pmhc.unknown_nature_codes SET (security_barrier = true);
ALTER VIEW pmhc.effective_definitions SET (security_barrier = true);
ALTER VIEW pmhc.mh_call_outcomes SET (security_barrier = true);
