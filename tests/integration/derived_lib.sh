# shellcheck shell=bash
# The derived values of pmhc.calls against a recomputation from scratch; sourced
# after lib.sh, not run. Used where a backfill leaves them to its final pass
# (migration 014): after it they must be what the per-statement triggers of
# migration 009 give, whichever way the rows went in.

# derived_mismatches: "L H R", the rows that differ from a recomputation from the
# calls themselves, written here from the contract (spec section 5), not from
# the migrations' functions:
#   L  calls whose received_local is not received_at in the PSAP's time zone;
#   H  local hours whose pmhc.calls_by_local_hour row (zero rows aside: the views
#      skip them) differs from a count of the calls in that hour, either way;
#   R  calls whose repeat_encounter differs from a plain count of the subject's
#      other MH calls in the window before it.
# "0 0 0" when every derived value is current.
derived_mismatches() {
  sql "WITH w AS (
         SELECT c.psap_id, c.call_id, c.received_at, c.received_local, c.repeat_encounter,
                c.mental_health_call, c.subject_hash,
                pmhc.definition(c.psap_id, 'time_zone') AS tz,
                pmhc.definition(c.psap_id, 'repeat_threshold')::int AS threshold,
                make_interval(hours => 24 * pmhc.definition(c.psap_id, 'repeat_window_days')::int) AS win
           FROM pmhc.calls c
       ), local_time AS (
         SELECT count(*) AS n FROM w WHERE received_local IS DISTINCT FROM (received_at AT TIME ZONE tz)
       ), hours_want AS (
         SELECT psap_id, date_trunc('hour', received_at AT TIME ZONE tz) AS local_hour, count(*) AS calls,
                count(*) FILTER (WHERE mental_health_call) AS mh_calls
           FROM w GROUP BY 1, 2
       ), hours_got AS (
         SELECT psap_id, local_hour, calls, mh_calls FROM pmhc.calls_by_local_hour
          WHERE calls <> 0 OR mh_calls <> 0
       ), hours AS (
         SELECT count(*) AS n FROM hours_want FULL JOIN hours_got USING (psap_id, local_hour)
          WHERE (hours_want.calls, hours_want.mh_calls) IS DISTINCT FROM (hours_got.calls, hours_got.mh_calls)
       ), repeats AS (
         SELECT count(*) AS n FROM w
          WHERE repeat_encounter IS DISTINCT FROM (
                mental_health_call AND subject_hash IS NOT NULL
                AND (SELECT count(*) FROM pmhc.calls o
                      WHERE o.psap_id = w.psap_id AND o.subject_hash = w.subject_hash AND o.mental_health_call
                        AND o.received_at >= w.received_at - w.win AND o.received_at < w.received_at)
                    >= threshold - 1)
       )
       SELECT (SELECT n FROM local_time) || ' ' || (SELECT n FROM hours) || ' ' || (SELECT n FROM repeats)"
}

# deferred_notes: how many notes of deferred writes wait for a final pass.
deferred_notes() {
  sql "SELECT (SELECT count(*) FROM pmhc.deferred_subjects) + (SELECT count(*) FROM pmhc.deferred_hours)"
}
