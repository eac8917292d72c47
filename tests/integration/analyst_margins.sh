#!/usr/bin/env bash
# Margins that do not nest (issue 17, migration 013): every count an analyst
# reads is suppressed when small, and no hidden cell comes back by differencing
# one view, grain or total against another. The data are written by the DBA
# straight into pmhc.calls and pmhc.dispositions (the triggers keep the hourly
# summary and the repeat flags as for the daemon's writes), so that each cell
# is the size the attack needs. PSAP MRG, in UTC; the threshold is the floor, 11.
#
#   group  when (UTC)         MH  beat resp.          disposition           other
#   G1     2025-01-06 10:00    3  C    MOBILE_CRISIS  ARREST                one person thrice (1 repeat), fallbacks,
#                                                                           service Detox unavailable, Q3-Q12 unasked,
#                                                                           nature code ZZZ unknown
#   G2     2025-01-07 10:00   25  A    CIT            REFERRED              units U1 (2 of them: U9 went), 2 fallbacks
#   N1     2025-01-07 14:00   20  (not MH calls)
#   G3     2025-01-08 10:00   20  B    CIT            RESOLVED_ON_SCENE     service Crisis Beds unavailable, code YYY
#   G8     2025-01-14 11:00   15  B    CIT            RESOLVED_ON_SCENE
#   G4     2025-01-30 12:00   12  A    CIT            2 TRANSFERRED_988, 10 REFERRED
#   G5     2025-02-01 09:00   20  A    CIT            REFERRED
#   G6     2025-02-10 09:00   20  B    CIT            ARREST                source 988
#   G7     2025-03-03 08:00    4  A    CIT            REFERRED
# Every MH call but G6's came in on 911. Each call is a minute after the one before.
#
# PSAP LIV (section 7), live MH calls only, every one REFERRED, for the attack on
# all-time totals (migration 015): February's MOBILE_CRISIS (3) and beat P (3) are
# hidden in the monthly views, January's and March's shown; on main's schema the
# all-time rows of recommended_vs_disposition and fallbacks_by_hour_beat were
# shown whole and gave them back.
#
#   group  when (UTC)         MH  beat resp.          other
#   L1     2025-01-06 10:00   30  P    CIT            15 fallbacks
#   L2     2025-01-07 10:00   30  R    MOBILE_CRISIS
#   L8     2025-01-08 11:00   30  R    EMS_AND_CIT
#   L3     2025-02-03 10:00    3  P    MOBILE_CRISIS  3 fallbacks
#   L4     2025-02-04 15:00    9  Q    EMS_AND_CIT
#   L5     2025-02-05 10:00   30  R    CIT            units U1 (2 of them: U9 went)
#   L6     2025-03-03 10:00   30  P    MOBILE_CRISIS  15 fallbacks
#   L7     2025-03-04 10:00   30  R    CIT
source "$(dirname "$0")/lib.sh"

sql "INSERT INTO pmhc.calls (psap_id, call_id, revision, received_at, source, nature_code, nature_code_mapped, flags,
                             mental_health_call, rule_id, response, dispatch_code, unit_ids, fallback_used,
                             rules_version, decided_at, beat, district, subject_hash, answers, call_taker_hash,
                             nature_known)
     SELECT 'MRG', g.name || '-' || i, 1, t, g.source, g.code, g.code, '{}', g.mh, 'R', g.response, 'X',
            CASE WHEN g.name = 'G2' THEN '{U1}'::text[] ELSE '{}' END, i <= g.fallbacks, repeat('a', 64), t,
            g.beat, 'D1', sha256(convert_to(CASE WHEN g.name = 'G1' THEN 'P1' ELSE g.name || i END, 'UTF8')),
            g.answers, sha256(convert_to(g.taker, 'UTF8')), g.code = 'EDP'
       FROM (VALUES
         ('G1', '2025-01-06 10:00', 3, true, 'C', 'MOBILE_CRISIS', '911', 3, 'YY??????????', 'T3', 'ZZZ'),
         ('G2', '2025-01-07 10:00', 25, true, 'A', 'CIT', '911', 2, 'YNYNYNYNYNYN', 'T1', 'EDP'),
         ('N1', '2025-01-07 14:00', 20, false, 'A', 'STANDARD', '911', 0, 'NNNNNNNNNNNN', 'T1', 'EDP'),
         ('G3', '2025-01-08 10:00', 20, true, 'B', 'CIT', '911', 0, 'YNYNYNYNYNYN', 'T1', 'YYY'),
         ('G8', '2025-01-14 11:00', 15, true, 'B', 'CIT', '911', 0, 'YNYNYNYNYNYN', 'T2', 'EDP'),
         ('G4', '2025-01-30 12:00', 12, true, 'A', 'CIT', '911', 0, 'YNYNYNYNYNYN', 'T2', 'EDP'),
         ('G5', '2025-02-01 09:00', 20, true, 'A', 'CIT', '911', 0, 'YNYNYNYNYNYN', 'T1', 'EDP'),
         ('G6', '2025-02-10 09:00', 20, true, 'B', 'CIT', '988', 0, 'YNYNYNYNYNYN', 'T2', 'EDP'),
         ('G7', '2025-03-03 08:00', 4, true, 'A', 'CIT', '911', 0, 'YNYNYNYNYNYN', 'T1', 'EDP'))
         AS g(name, at, n, mh, beat, response, source, fallbacks, answers, taker, code)
      CROSS JOIN generate_series(1, g.n) AS i
      CROSS JOIN LATERAL (SELECT g.at::timestamptz + (i - 1) * interval '1 minute' AS t) x;
     INSERT INTO pmhc.dispositions (psap_id, call_id, closed_at, code, unit_ids, arrest, connected_to_services,
                                    service_unavailable, service_name)
     SELECT psap_id, call_id, received_at + interval '1 hour', d.code,
            CASE WHEN call_id IN ('G2-1', 'G2-2') THEN '{U9}'::text[] ELSE unit_ids END,
            d.code = 'ARREST', d.code = 'REFERRED', d.service <> '', d.service
       FROM pmhc.calls c
      CROSS JOIN LATERAL (SELECT CASE
                 WHEN call_id LIKE 'G1-%' OR call_id LIKE 'G6-%' THEN 'ARREST'
                 WHEN call_id LIKE 'G3-%' OR call_id LIKE 'G8-%' OR call_id LIKE 'N1-%' THEN 'RESOLVED_ON_SCENE'
                 WHEN call_id IN ('G4-1', 'G4-2') THEN 'TRANSFERRED_988'
                 ELSE 'REFERRED' END AS code,
                 CASE WHEN call_id LIKE 'G1-%' THEN 'Detox' WHEN call_id LIKE 'G3-%' THEN 'Crisis Beds' ELSE '' END
                     AS service) d
      WHERE psap_id = 'MRG';
     INSERT INTO pmhc.definitions (psap_id, key, value) VALUES ('MRG', 'baseline_start', '2025-01-01'),
       ('MRG', 'baseline_end', '2025-02-01'), ('MRG', 'current_start', '2025-02-01'), ('MRG', 'current_end', '2025-04-01')"
expect_eq "the data as written: calls, MH calls, repeat encounters" \
  "$(sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE mental_health_call) || ' '
                 || count(*) FILTER (WHERE repeat_encounter) FROM pmhc.calls WHERE psap_id = 'MRG'")" "139 119 1"

# shown VIEW COLUMNS ORDER [WHERE]: the analyst's rows of a view for MRG (or $PSAP), '-' for a hidden cell.
shown() {
  analyst_sql "SELECT string_agg(line, ',' ORDER BY o) FROM (
                 SELECT concat_ws(' ', $2) AS line, row_number() OVER (ORDER BY $3) AS o
                   FROM pmhc.$1 WHERE psap_id = '${PSAP:-MRG}' ${4:+AND $4}) v"
}
dash() { echo "coalesce($1::text, '-')"; }

# --- 1. months against the whole history --------------------------------------------------
# March (4 MH calls) is small; with it hidden, the whole history (which every
# all-time view adds up to) minus January would still give it: February goes too.
expect_eq "exact months (as the DBA): calls/MH" \
  "$(sql "SELECT string_agg(month || '=' || calls || '/' || mh_calls, ',' ORDER BY month) FROM pmhc.mh_calls_by_month
          WHERE psap_id = 'MRG'")" "2025-01-01=95/75,2025-02-01=40/40,2025-03-01=4/4"
expect_eq "analyst's months: March hidden, and February with it" \
  "$(shown mh_calls_by_month "month, $(dash calls), $(dash mh_calls), $(dash mh_share)" "month")" \
  "2025-01-01 95 75 0.7895,2025-02-01 - - -,2025-03-01 - - -"
expect_eq "the whole history (119 MH calls, as any all-time view adds up) minus the months shown: not 1 to 10" \
  "$(analyst_sql "SELECT 119 - sum(mh_calls) FROM pmhc.mh_calls_by_month WHERE psap_id = 'MRG'")" 44

# --- 2. days within months and weekdays; weeks across months --------------------------------------
expect_eq "analyst's days (calls MH): 6 and 30 January hidden, every day of the hidden months too" \
  "$(shown mh_calls_by_day "day, $(dash calls), $(dash mh_calls)" "day")" \
  "2025-01-06 - -,2025-01-07 45 25,2025-01-08 20 20,2025-01-14 15 15,2025-01-30 - -,2025-02-01 - -,2025-02-10 - -,2025-03-03 - -"
expect_eq "January (shown) minus its days shown: 15, not a small count" \
  "$(analyst_sql "SELECT m.mh_calls - sum(d.mh_calls) FROM pmhc.mh_calls_by_month m
                    JOIN pmhc.mh_calls_by_day d ON d.psap_id = m.psap_id AND date_trunc('month', d.day) = m.month
                   WHERE m.psap_id = 'MRG' AND m.month = '2025-01-01' GROUP BY m.mh_calls")" 15
# The week of 27 January straddles two months: published exactly (32) beside
# 1 February's 20 it would give 30 January's 12 ... and 6 January's week, 3.
expect_eq "analyst's weeks: only a week whose every day is shown" \
  "$(shown mh_calls_by_week "week_start, $(dash calls), $(dash mh_calls)" "week_start")" \
  "2025-01-06 - -,2025-01-13 15 15,2025-01-27 - -,2025-02-10 - -,2025-03-03 - -"
expect_eq "no week minus its days shown gives a count from 1 to 10" \
  "$(analyst_sql "SELECT count(*) FROM (
                    SELECT w.mh_calls - coalesce(sum(d.mh_calls), 0) AS rest FROM pmhc.mh_calls_by_week w
                      JOIN pmhc.mh_calls_by_day d ON d.psap_id = w.psap_id AND date_trunc('week', d.day) = w.week_start
                     WHERE w.psap_id = 'MRG' GROUP BY w.week_start, w.mh_calls) x WHERE rest BETWEEN 1 AND 10")" 0

# --- 3. hours: the weekday and the hour of the day ---------------------------------------------------
expect_eq "analyst's weekday hours: Monday hidden (3, 4, 20); 10:00 Wednesday hidden with it" \
  "$(shown mh_calls_by_hour_weekday "weekday, hour, $(dash mh_calls)" "isodow, hour")" \
  "Mon 8 -,Mon 9 -,Mon 10 -,Tue 10 25,Tue 11 15,Wed 10 -,Thu 12 12,Sat 9 20"
# The live hours of fallbacks_by_hour_beat add up to the same hours of the day.
expect_eq "an hour of fallbacks_by_hour_beat shown whole, minus that hour's weekdays shown: never 1 to 10" \
  "$(analyst_sql "WITH f AS (SELECT hour, sum(mh_calls) AS total FROM pmhc.fallbacks_by_hour_beat WHERE psap_id = 'MRG'
                              GROUP BY hour HAVING count(*) = count(mh_calls)),
                       h AS (SELECT hour, coalesce(sum(mh_calls), 0) AS shown FROM pmhc.mh_calls_by_hour_weekday
                              WHERE psap_id = 'MRG' GROUP BY hour)
                  SELECT string_agg(hour || ':' || (total - shown), ',' ORDER BY hour) FROM f JOIN h USING (hour)")" \
  "12:0"
expect_eq "analyst's beats by hour and month (MH/fallbacks): January's 10:00 C and B hidden, B's 11:00 with its
           beat (hidden in mh_calls_by_place); A's 2 fallbacks of 25; nothing of February or March" \
  "$(shown fallbacks_by_hour_beat "month, beat, hour, $(dash mh_calls) || '/' || $(dash fallbacks), $(dash fallback_rate)" \
        "month, beat, hour")" \
  "2025-01-01 A 10 25/- -,2025-01-01 A 12 12/0 0.0000,2025-01-01 B 10 -/- -,2025-01-01 B 11 -/- -,2025-01-01 C 10 -/- -,2025-02-01 A 9 -/- -,2025-02-01 B 9 -/- -,2025-03-01 A 8 -/- -"

# --- 4. outcomes, periods and ranges of months ---------------------------------------------------------
expect_eq "analyst's outcomes in January: 3 arrests and 1 repeat hidden, with their rates" \
  "$(shown outcomes_by_month "month, mh_calls, with_outcome, connected, connected_rate, $(dash arrests),
        $(dash arrest_rate), use_of_force, involuntary_holds, $(dash repeat_calls), $(dash repeat_subjects)" month \
        "month = '2025-01-01'")" "2025-01-01 75 75 37 0.4933 - - 0 0 - -"
expect_eq "analyst's outcomes in the hidden months: nothing" \
  "$(shown outcomes_by_month "month, $(dash mh_calls), $(dash with_outcome), $(dash arrests)" month "month > '2025-01-01'")" \
  "2025-02-01 - - -,2025-03-01 - - -"
expect_eq "January to April minus February to April (outcomes_for_months): no arrest count comes out" \
  "$(analyst_sql "SELECT coalesce((SELECT arrested FROM pmhc.outcomes_for_months('MRG', '2025-01-01', '2025-04-01'))
                                  - (SELECT arrested FROM pmhc.outcomes_for_months('MRG', '2025-02-01', '2025-04-01')),
                                  -1)")" -1
expect_eq "one month through outcomes_for_months is what outcomes_by_month shows" \
  "$(analyst_sql "SELECT concat_ws(' ', mh_calls, counted, connected, $(dash arrested), used_force, involuntary_hold,
                                   $(dash repeat_calls)) FROM pmhc.outcomes_for_months('MRG', '2025-01-01', '2025-02-01')")" \
  "75 75 37 - 0 0 -"
expect_eq "the baseline (January) has no arrest rate to multiply back into 3 arrests; the current period hides it all" \
  "$(shown outcomes_baseline_vs_current "measure, $(dash baseline), $(dash current)" ord \
        "measure IN ('mh_calls', 'connected_rate', 'arrest_rate')")" \
  "mh_calls 75 -,connected_rate 0.4933 -,arrest_rate - -"

# --- 5. breakdowns of a month ------------------------------------------------------------------------
expect_eq "analyst's beats: January's C (3) and B; nothing of February or March" \
  "$(shown mh_calls_by_place "month, beat, $(dash mh_calls)" "month, beat")" \
  "2025-01-01 A 37,2025-01-01 B -,2025-01-01 C -,2025-02-01 A -,2025-02-01 B -,2025-03-01 A -"
expect_eq "analyst's responses: January's MOBILE_CRISIS (3) and its complement; February's, whose month is hidden" \
  "$(shown response_mix_by_month "month, response, $(dash mh_calls)" "month, response")" \
  "2025-01-01 CIT -,2025-01-01 MOBILE_CRISIS -,2025-02-01 CIT -,2025-03-01 CIT -"
expect_eq "analyst's unavailable services: Detox (3) and Crisis Beds with it" \
  "$(shown referrals_service_unavailable "month, service_name, $(dash mh_calls)" "month, service_name")" \
  "2025-01-01 Crisis Beds -,2025-01-01 Detox -"
expect_eq "analyst's diversions: 2 transfers to 988 hidden with their rate; February's 911 calls hidden" \
  "$(shown diversions_911_to_988 "month, $(dash mh_calls_911), $(dash transferred_988), $(dash diversion_rate)" "month")" \
  "2025-01-01 75 - -,2025-02-01 - - -,2025-03-01 - - -"
expect_eq "analyst's screening: Q3 was asked on 72 of 75 (3 not): its share hidden" \
  "$(shown screening_fidelity "question, $(dash mh_calls), $(dash asked_share), $(dash with_disposition),
        $(dash screening_agreed_share)" question "month = '2025-01-01' AND question IN (1, 3)")" \
  "1 75 1.0000 75 0.4933,3 75 - 75 0.4933"
expect_eq "analyst's call-takers: January's T3 (3) and T2; none of February's" \
  "$(shown screening_fidelity_by_call_taker "month, $(dash mh_calls)" "month, mh_calls NULLS FIRST")" \
  "2025-01-01 -,2025-01-01 -,2025-01-01 45,2025-02-01 -,2025-02-01 -,2025-03-01 -"
expect_eq "analyst's unknown nature codes: ZZZ (3) and YYY with it" \
  "$(shown unknown_nature_codes "month, nature_code_mapped, $(dash calls)" "month, nature_code_mapped")" "2025-01-01 YYY -,2025-01-01 ZZZ -"

# --- 6. the live cross-tab of responses and dispositions -------------------------------------------------
# By month (migration 015): January's responses are hidden in response_mix_by_month
# (MOBILE_CRISIS 3 and CIT with it), so their rows are; February and March are hidden months.
expect_eq "analyst's recommended against disposition: every month's response row hidden with its response_mix_by_month cell" \
  "$(shown recommended_vs_disposition "month, response, disposition_code, $(dash calls), $(dash with_units)" \
        "month, response, disposition_code")" \
  "2025-01-01 CIT REFERRED - -,2025-01-01 CIT RESOLVED_ON_SCENE - -,2025-01-01 CIT TRANSFERRED_988 - -,2025-01-01 MOBILE_CRISIS ARREST - -,2025-02-01 CIT ARREST - -,2025-02-01 CIT REFERRED - -,2025-03-01 CIT REFERRED - -"

# --- 7. all-time totals of the live cross-tabs against the months (PSAP LIV) ------------------------------
sql "INSERT INTO pmhc.calls (psap_id, call_id, revision, received_at, source, nature_code, nature_code_mapped, flags,
                             mental_health_call, rule_id, response, dispatch_code, unit_ids, fallback_used,
                             rules_version, decided_at, beat, district, subject_hash, answers, call_taker_hash,
                             nature_known)
     SELECT 'LIV', g.name || '-' || i, 1, t, '911', 'EDP', 'EDP', '{}', true, 'R', g.response, 'X',
            CASE WHEN g.name = 'L5' THEN '{U1}'::text[] ELSE '{}' END, i <= g.fallbacks, repeat('a', 64), t,
            g.beat, 'D1', sha256(convert_to(g.name || i, 'UTF8')), 'YNYNYNYNYNYN', sha256(convert_to('T1', 'UTF8')), true
       FROM (VALUES
         ('L1', '2025-01-06 10:00', 30, 'P', 'CIT', 15),
         ('L2', '2025-01-07 10:00', 30, 'R', 'MOBILE_CRISIS', 0),
         ('L8', '2025-01-08 11:00', 30, 'R', 'EMS_AND_CIT', 0),
         ('L3', '2025-02-03 10:00', 3, 'P', 'MOBILE_CRISIS', 3),
         ('L4', '2025-02-04 15:00', 9, 'Q', 'EMS_AND_CIT', 0),
         ('L5', '2025-02-05 10:00', 30, 'R', 'CIT', 0),
         ('L6', '2025-03-03 10:00', 30, 'P', 'MOBILE_CRISIS', 15),
         ('L7', '2025-03-04 10:00', 30, 'R', 'CIT', 0))
         AS g(name, at, n, beat, response, fallbacks)
      CROSS JOIN generate_series(1, g.n) AS i
      CROSS JOIN LATERAL (SELECT g.at::timestamptz + (i - 1) * interval '1 minute' AS t) x;
     INSERT INTO pmhc.dispositions (psap_id, call_id, closed_at, code, unit_ids, arrest, connected_to_services)
     SELECT psap_id, call_id, received_at + interval '1 hour', 'REFERRED',
            CASE WHEN call_id IN ('L5-1', 'L5-2') THEN '{U9}'::text[] ELSE unit_ids END, false, true
       FROM pmhc.calls WHERE psap_id = 'LIV'"
expect_eq "LIV: the analyst's months are all shown" \
  "$(analyst_sql "SELECT string_agg(month || '=' || $(dash mh_calls), ',' ORDER BY month) FROM pmhc.mh_calls_by_month
                   WHERE psap_id = 'LIV'")" "2025-01-01=90,2025-02-01=42,2025-03-01=60"
expect_eq "LIV: February's MOBILE_CRISIS (3) and EMS_AND_CIT (9) hidden in response_mix_by_month, the rest shown" \
  "$(analyst_sql "SELECT string_agg(month || ' ' || response || ' ' || $(dash mh_calls), ',' ORDER BY month, response)
                    FROM pmhc.response_mix_by_month WHERE psap_id = 'LIV'")" \
  "2025-01-01 CIT 30,2025-01-01 EMS_AND_CIT 30,2025-01-01 MOBILE_CRISIS 30,2025-02-01 CIT 30,2025-02-01 EMS_AND_CIT -,2025-02-01 MOBILE_CRISIS -,2025-03-01 CIT 30,2025-03-01 MOBILE_CRISIS 30"
expect_eq "LIV: February's beats P (3) and Q (9) hidden in mh_calls_by_place, the rest shown" \
  "$(analyst_sql "SELECT string_agg(month || ' ' || beat || ' ' || $(dash mh_calls), ',' ORDER BY month, beat)
                    FROM pmhc.mh_calls_by_place WHERE psap_id = 'LIV'")" \
  "2025-01-01 P 30,2025-01-01 R 60,2025-02-01 P -,2025-02-01 Q -,2025-02-01 R 30,2025-03-01 P 30,2025-03-01 R 30"
# The attack: what recommended_vs_disposition and fallbacks_by_hour_beat add up to
# for a response or a beat over all their rows, minus the months shown. On main's
# schema (one all-time row each) this gave 3, 9 and 3.
expect_eq "LIV: all-time MOBILE_CRISIS, EMS_AND_CIT (recommended_vs_disposition) and beat P (fallbacks_by_hour_beat)
           minus their shown months: nothing hidden comes back" \
  "$(analyst_sql "SELECT concat_ws(' ',
            (SELECT sum(calls) FROM pmhc.recommended_vs_disposition WHERE psap_id = 'LIV' AND response = 'MOBILE_CRISIS')
            - (SELECT sum(mh_calls) FROM pmhc.response_mix_by_month WHERE psap_id = 'LIV' AND response = 'MOBILE_CRISIS'),
            (SELECT sum(calls) FROM pmhc.recommended_vs_disposition WHERE psap_id = 'LIV' AND response = 'EMS_AND_CIT')
            - (SELECT sum(mh_calls) FROM pmhc.response_mix_by_month WHERE psap_id = 'LIV' AND response = 'EMS_AND_CIT'),
            (SELECT sum(mh_calls) FROM pmhc.fallbacks_by_hour_beat WHERE psap_id = 'LIV' AND beat = 'P')
            - (SELECT sum(mh_calls) FROM pmhc.mh_calls_by_place WHERE psap_id = 'LIV' AND beat = 'P'))")" "0 0 0"
expect_eq "LIV: January to February of MOBILE_CRISIS and beat P minus January: nothing hidden comes back" \
  "$(analyst_sql "SELECT concat_ws(' ',
            (SELECT sum(calls) FROM pmhc.recommended_vs_disposition WHERE psap_id = 'LIV' AND response = 'MOBILE_CRISIS'
                AND month < '2025-03-01') - 30,
            (SELECT sum(mh_calls) FROM pmhc.fallbacks_by_hour_beat WHERE psap_id = 'LIV' AND beat = 'P'
                AND month < '2025-03-01') - 30)")" "0 0"
expect_eq "LIV: recommended against disposition, by month: February's MOBILE_CRISIS and EMS_AND_CIT hidden; of
           CIT's 30 with units, 28 all went and 2 none: both hidden" \
  "$(PSAP=LIV shown recommended_vs_disposition "month, response, $(dash calls), $(dash with_units),
        $(dash all_recommended_went), $(dash none_recommended_went)" "month, response")" \
  "2025-01-01 CIT 30 0 0 0,2025-01-01 EMS_AND_CIT 30 0 0 0,2025-01-01 MOBILE_CRISIS 30 0 0 0,2025-02-01 CIT 30 30 - -,2025-02-01 EMS_AND_CIT - - - -,2025-02-01 MOBILE_CRISIS - - - -,2025-03-01 CIT 30 0 0 0,2025-03-01 MOBILE_CRISIS 30 0 0 0"
expect_eq "LIV: fallbacks by month: February's hour 10:00 (P 3, R with it) and Q hidden; the rest shown" \
  "$(PSAP=LIV shown fallbacks_by_hour_beat "month, beat, hour, $(dash mh_calls) || '/' || $(dash fallbacks)" \
        "month, beat, hour")" \
  "2025-01-01 P 10 30/15,2025-01-01 R 10 30/0,2025-01-01 R 11 30/0,2025-02-01 P 10 -/-,2025-02-01 Q 15 -/-,2025-02-01 R 10 -/-,2025-03-01 P 10 30/15,2025-03-01 R 10 30/0"

# --- 8. every margin, against the exact totals ------------------------------------------------------------
# Whatever total another view, grain or period could publish, the exact one
# minus the cells an analyst sees is 0 or at least 11 in every margin whose
# total is itself no small count. The analyst's cells are read under SET ROLE
# pmhc_reader (a LOGIN member of pmhc_analyst only), the totals as the DBA. A
# beat's or a response's total over all months is no margin: since migration 015 no
# view publishes one (section 7 shows what summing the months gives back: nothing);
# an hour of the day over all months is, as mh_calls_by_hour_weekday publishes it.
leaks=$(sql "SET ROLE pmhc_reader;
  CREATE TEMP TABLE a_month AS SELECT * FROM pmhc.mh_calls_by_month WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_day AS SELECT * FROM pmhc.mh_calls_by_day WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_hour AS SELECT * FROM pmhc.mh_calls_by_hour_weekday WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_place AS SELECT * FROM pmhc.mh_calls_by_place WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_mix AS SELECT * FROM pmhc.response_mix_by_month WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_rvd AS SELECT * FROM pmhc.recommended_vs_disposition WHERE psap_id IN ('MRG', 'LIV');
  CREATE TEMP TABLE a_fb AS SELECT * FROM pmhc.fallbacks_by_hour_beat WHERE psap_id IN ('MRG', 'LIV');
  RESET ROLE;
  WITH margins(margin, total, seen) AS (
    SELECT e.psap_id || ' all months', sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_month e JOIN a_month a USING (psap_id, month) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' days of ' || date_trunc('month', day)::date, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_day e JOIN a_day a USING (psap_id, day) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' weekday ' || extract(isodow FROM day), sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_day e JOIN a_day a USING (psap_id, day) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' hours of weekday ' || isodow, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_hour_weekday e JOIN a_hour a USING (psap_id, isodow, hour) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' weekdays of hour ' || hour, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_hour_weekday e JOIN a_hour a USING (psap_id, isodow, hour) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' beats of ' || month, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.mh_calls_by_place e JOIN a_place a USING (psap_id, month, district, beat) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' responses of ' || month, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.response_mix_by_month e JOIN a_mix a USING (psap_id, month, response) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' dispositions of ' || month || ' ' || response, sum(e.calls), coalesce(sum(a.calls), 0)
      FROM pmhc.recommended_vs_disposition e JOIN a_rvd a USING (psap_id, month, response, disposition_code)
     WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' responses of ' || month || ' ' || disposition_code, sum(e.calls), coalesce(sum(a.calls), 0)
      FROM pmhc.recommended_vs_disposition e JOIN a_rvd a USING (psap_id, month, response, disposition_code)
     WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' beats at ' || month || ' ' || hour, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.fallbacks_by_hour_beat e JOIN a_fb a USING (psap_id, month, beat, hour) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' hours of beat ' || month || ' ' || beat, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.fallbacks_by_hour_beat e JOIN a_fb a USING (psap_id, month, beat, hour) WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
    UNION ALL SELECT e.psap_id || ' months and beats at ' || hour, sum(e.mh_calls), coalesce(sum(a.mh_calls), 0)
      FROM pmhc.fallbacks_by_hour_beat e JOIN a_fb a USING (psap_id, month, beat, hour)
     WHERE e.psap_id IN ('MRG', 'LIV') GROUP BY 1
  )
  SELECT coalesce(string_agg(margin || ': ' || total || ' - ' || seen, '; ' ORDER BY margin), 'none')
    FROM margins WHERE total >= 11 AND total - seen BETWEEN 1 AND 10")
expect_eq "no margin whose total is 11 or more has hidden cells adding up to 1 to 10" "$leaks" none

expect_eq "no month's response row of recommended_vs_disposition (beat of fallbacks_by_hour_beat) is shown whole
           where response_mix_by_month (mh_calls_by_place) hides it" \
  "$(analyst_sql "SELECT (SELECT count(*) FROM pmhc.response_mix_by_month x WHERE x.psap_id IN ('MRG', 'LIV')
                            AND x.mh_calls IS NULL AND NOT EXISTS (
                                SELECT FROM pmhc.recommended_vs_disposition r WHERE (r.psap_id, r.month, r.response)
                                    = (x.psap_id, x.month, x.response) AND r.calls IS NULL)
                            AND EXISTS (SELECT FROM pmhc.recommended_vs_disposition r WHERE (r.psap_id, r.month, r.response)
                                    = (x.psap_id, x.month, x.response))) || ' '
                          || (SELECT count(*) FROM pmhc.mh_calls_by_place x WHERE x.psap_id IN ('MRG', 'LIV')
                            AND x.mh_calls IS NULL AND NOT EXISTS (
                                SELECT FROM pmhc.fallbacks_by_hour_beat f WHERE (f.psap_id, f.month, f.beat)
                                    = (x.psap_id, x.month, x.beat) AND f.mh_calls IS NULL)
                            AND EXISTS (SELECT FROM pmhc.fallbacks_by_hour_beat f WHERE (f.psap_id, f.month, f.beat)
                                    = (x.psap_id, x.month, x.beat)))")" "0 0"

# --- 9. nothing left out -----------------------------------------------------------------------------
# Every relation an analyst may read and every function it may run: each view
# of counts is checked above (mh_calls_by_place, _by_hour_weekday and the
# call-takers in analyst.sh too); the rest hold definitions, or are the
# building blocks the views call as their reader.
expect_eq "what pmhc_analyst may SELECT" \
  "$(sql "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
          WHERE relnamespace = 'pmhc'::regnamespace AND relkind IN ('r', 'v', 'm', 'p', 'f')
            AND has_table_privilege('pmhc_analyst', oid, 'SELECT')")" \
  "definitions,definitions_history,diversions_911_to_988,effective_definitions,fallbacks_by_hour_beat,mh_calls_by_day,mh_calls_by_hour_weekday,mh_calls_by_month,mh_calls_by_place,mh_calls_by_week,outcomes_baseline_vs_current,outcomes_by_month,recommended_vs_disposition,referrals_service_unavailable,response_mix_by_month,screening_fidelity,screening_fidelity_by_call_taker,unknown_nature_codes"
expect_eq "what pmhc_analyst may EXECUTE" \
  "$(sql "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc
          WHERE pronamespace = 'pmhc'::regnamespace AND has_function_privilege('pmhc_analyst', oid, 'EXECUTE')")" \
  "definition,outcomes_for_months,protected_cell,protected_part,reader_threshold,second_margin_cell,sees_exact_counts,small_cell,small_cell_floor"

# --- 10. exact readers ------------------------------------------------------------------------------------
sql "CREATE ROLE carl LOGIN IN ROLE pmhc_analyst, pmhc_case_reviewer"
expect_eq "a case reviewer reads the exact counts: March's 4 MH calls, 6 January's 3" \
  "$(psql "$PMHC_PG_DBA_CONNINFO user=carl" -XAtq -v ON_ERROR_STOP=1 -c "
       SELECT (SELECT mh_calls FROM pmhc.mh_calls_by_month WHERE psap_id = 'MRG' AND month = '2025-03-01') || ' '
              || (SELECT mh_calls FROM pmhc.mh_calls_by_day WHERE psap_id = 'MRG' AND day = '2025-01-06') || ' '
              || (SELECT arrested FROM pmhc.outcomes_for_months('MRG', '2025-01-01', '2025-02-01'))")" "4 3 3"

echo "analyst_margins: $checks checks passed"
