-- 003: each center's shared definitions (SPEC section 5), editable with SQL.
-- psap_id '*' holds the defaults; a PSAP's own row for a key overrides it.

CREATE TABLE pmhc.definitions (
    psap_id    text        NOT NULL,
    key        text        NOT NULL
        CHECK (key IN ('repeat_threshold', 'repeat_window_days', 'baseline_start', 'baseline_end',
                       'current_start', 'current_end', 'time_zone', 'small_cell_threshold')),
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (psap_id, key)
);

COMMENT ON TABLE pmhc.definitions IS
    'The shared definitions the outcome views use, per PSAP; psap_id ''*'' is the default for every PSAP. Edit with UPDATE/INSERT; values are checked.';
COMMENT ON COLUMN pmhc.definitions.psap_id IS 'The PSAP the definition is for, or ''*'' for the default.';
COMMENT ON COLUMN pmhc.definitions.key IS 'repeat_threshold (calls, at least 2), repeat_window_days (days of 24 h), baseline_start/baseline_end and current_start/current_end (local dates, start included, end excluded), time_zone (IANA name), small_cell_threshold (counts below it are suppressed in fine-grained views; 0 = none).';
COMMENT ON COLUMN pmhc.definitions.value IS 'The value as text, checked against its key when written.';
COMMENT ON COLUMN pmhc.definitions.updated_at IS 'When the value was last written.';

-- A bad value would silently skew every figure: refuse it where it is written.
CREATE FUNCTION pmhc.definitions_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    CASE NEW.key
    WHEN 'repeat_threshold' THEN
        IF NEW.value !~ '^[0-9]{1,6}$' OR NEW.value::int < 2 THEN
            RAISE EXCEPTION 'repeat_threshold must be a whole number of calls, at least 2 (got %)', NEW.value;
        END IF;
    WHEN 'repeat_window_days', 'small_cell_threshold' THEN
        IF NEW.value !~ '^[0-9]{1,6}$' OR (NEW.key = 'repeat_window_days' AND NEW.value::int < 1) THEN
            RAISE EXCEPTION '% must be a whole number (got %)', NEW.key, NEW.value;
        END IF;
    WHEN 'baseline_start', 'baseline_end', 'current_start', 'current_end' THEN
        IF NEW.value !~ '^\d{4}-\d{2}-\d{2}$' THEN
            RAISE EXCEPTION '% must be a date as YYYY-MM-DD (got %)', NEW.key, NEW.value;
        END IF;
        PERFORM NEW.value::date;
    WHEN 'time_zone' THEN
        IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.value) THEN
            RAISE EXCEPTION 'time_zone must be an IANA time zone name such as America/Toronto (got %)', NEW.value;
        END IF;
    END CASE;
    NEW.updated_at := now();
    RETURN NEW;
END $$;

COMMENT ON FUNCTION pmhc.definitions_check() IS 'Refuses a definition whose value does not fit its key.';

CREATE TRIGGER definitions_check BEFORE INSERT OR UPDATE ON pmhc.definitions
    FOR EACH ROW EXECUTE FUNCTION pmhc.definitions_check();

INSERT INTO pmhc.definitions (psap_id, key, value) VALUES
    ('*', 'repeat_threshold', '3'),
    ('*', 'repeat_window_days', '90'),
    ('*', 'baseline_start', '2024-01-01'),
    ('*', 'baseline_end', '2025-01-01'),
    ('*', 'current_start', '2025-01-01'),
    ('*', 'current_end', '2026-01-01'),
    ('*', 'time_zone', 'UTC'),
    ('*', 'small_cell_threshold', '0');

-- Every PSAP's definitions resolved: its own value where it has one, else the default.
CREATE VIEW pmhc.effective_definitions AS
WITH psaps AS (
    SELECT DISTINCT psap_id FROM pmhc.definitions WHERE psap_id <> '*'
    UNION SELECT '*'
), own AS (
    SELECT psap_id,
           max(value) FILTER (WHERE key = 'repeat_threshold')     AS repeat_threshold,
           max(value) FILTER (WHERE key = 'repeat_window_days')   AS repeat_window_days,
           max(value) FILTER (WHERE key = 'baseline_start')       AS baseline_start,
           max(value) FILTER (WHERE key = 'baseline_end')         AS baseline_end,
           max(value) FILTER (WHERE key = 'current_start')        AS current_start,
           max(value) FILTER (WHERE key = 'current_end')          AS current_end,
           max(value) FILTER (WHERE key = 'time_zone')            AS time_zone,
           max(value) FILTER (WHERE key = 'small_cell_threshold') AS small_cell_threshold
      FROM pmhc.definitions GROUP BY psap_id
)
SELECT p.psap_id,
       coalesce(o.repeat_threshold, d.repeat_threshold)::int               AS repeat_threshold,
       coalesce(o.repeat_window_days, d.repeat_window_days)::int           AS repeat_window_days,
       coalesce(o.baseline_start, d.baseline_start)::date                  AS baseline_start,
       coalesce(o.baseline_end, d.baseline_end)::date                      AS baseline_end,
       coalesce(o.current_start, d.current_start)::date                    AS current_start,
       coalesce(o.current_end, d.current_end)::date                        AS current_end,
       coalesce(o.time_zone, d.time_zone)                                  AS time_zone,
       coalesce(o.small_cell_threshold, d.small_cell_threshold)::int       AS small_cell_threshold
  FROM psaps p
  LEFT JOIN own o ON o.psap_id = p.psap_id
  CROSS JOIN (SELECT * FROM own WHERE psap_id = '*') d;

COMMENT ON VIEW pmhc.effective_definitions IS
    'The definitions in force for each PSAP that has any of its own, and for ''*'' (every other PSAP): own value, else the default.';
COMMENT ON COLUMN pmhc.effective_definitions.psap_id IS 'The PSAP, or ''*'' for PSAPs with no definitions of their own.';
COMMENT ON COLUMN pmhc.effective_definitions.repeat_threshold IS 'A subject''s MH call is a repeat encounter when at least this many minus one of their other MH calls fall in the window before it.';
COMMENT ON COLUMN pmhc.effective_definitions.repeat_window_days IS 'The window before a call, in days of 24 hours.';
COMMENT ON COLUMN pmhc.effective_definitions.baseline_start IS 'First local date of the baseline period.';
COMMENT ON COLUMN pmhc.effective_definitions.baseline_end IS 'Local date after the baseline period''s last.';
COMMENT ON COLUMN pmhc.effective_definitions.current_start IS 'First local date of the current period.';
COMMENT ON COLUMN pmhc.effective_definitions.current_end IS 'Local date after the current period''s last.';
COMMENT ON COLUMN pmhc.effective_definitions.time_zone IS 'The PSAP''s IANA time zone: periods, weekdays and hours are local.';
COMMENT ON COLUMN pmhc.effective_definitions.small_cell_threshold IS 'Counts from 1 to this minus one are shown as NULL in the fine-grained views (0: never).';
