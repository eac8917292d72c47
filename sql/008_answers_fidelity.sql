-- 008: the safer routing's new responses; each decision keeps the screening
-- answers it was made on, so any decision can be replayed; the call-taker as a
-- keyed hash; nature codes the center's table does not know; and the analysts'
-- view of screening fidelity.
--
-- answers: one character per screening question Q1..Q12 in the order of the
-- Screening message (docs/spec.md): Y yes, N no, ? not answered. NULL on rows
-- stored before this migration. Checked without a regular expression, as 007
-- explains.

ALTER TABLE pmhc.calls
    DROP CONSTRAINT calls_response_check,
    ADD CONSTRAINT calls_response_check
        CHECK (response IN ('STANDARD', 'CIT', 'CIT_WITH_BACKUP', 'CO_RESPONDER', 'MOBILE_CRISIS',
                            'EMS_AND_CIT', 'CALL_DIVERSION', 'EMS_AND_MOBILE_CRISIS',
                            'EMS_AND_CIT_WITH_BACKUP')),
    ADD COLUMN answers text CHECK (octet_length(answers) = 12 AND ltrim(answers, 'YN?') = ''),
    ADD COLUMN call_taker_hash bytea CHECK (octet_length(call_taker_hash) = 32),
    ADD COLUMN nature_known boolean;

ALTER TABLE pmhc.decisions
    ADD COLUMN answers text CHECK (octet_length(answers) = 12 AND ltrim(answers, 'YN?') = '');

COMMENT ON COLUMN pmhc.calls.answers IS
    'The twelve screening answers of the stored revision, Q1..Q12: Y yes, N no, ? not answered (NULL before migration 008).';
COMMENT ON COLUMN pmhc.decisions.answers IS
    'The twelve screening answers this decision was made on, Q1..Q12: Y yes, N no, ? not answered (NULL before migration 008).';
COMMENT ON COLUMN pmhc.calls.call_taker_hash IS
    'HMAC-SHA256 of the CAD''s call-taker id under the subject key; NULL when the CAD sent none. Never the id itself.';
COMMENT ON COLUMN pmhc.calls.nature_known IS
    'Whether the mapped nature code is one the center''s code table or aliases know; NULL before migration 008.';

-- A call's screening as a mental-health call, and its disposition's, for the
-- fidelity view: the call-taker screened MH when Q1 or Q2 was answered yes; the
-- disposition says MH when the person was connected to services, transported to
-- a crisis center, placed on an involuntary hold or transferred to 988.
CREATE VIEW pmhc.screening_facts AS
SELECT f.psap_id, f.call_id, f.received_local, f.mental_health_call, c.answers, c.call_taker_hash,
       substr(c.answers, 1, 1) = 'Y' OR substr(c.answers, 2, 1) = 'Y' AS screened_mh,
       CASE WHEN f.disposition_code IS NULL OR NOT f.outcome_counted THEN NULL
            ELSE f.connected OR f.involuntary_hold OR f.disposition_code = 'TRANSPORTED_CRISIS_CENTER'
       END AS disposition_mh,
       f.small_cell_threshold
  FROM pmhc.call_facts f JOIN pmhc.calls c USING (psap_id, call_id)
 WHERE c.answers IS NOT NULL;
COMMENT ON VIEW pmhc.screening_facts IS
    'Internal: each call''s answers, whether the call-taker screened it as mental-health (Q1 or Q2 yes) and whether its disposition did. Holds call_taker_hash: not for analysts.';

CREATE VIEW pmhc.screening_fidelity AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       count(*) AS mh_calls,
       q.n AS question,
       round(count(*) FILTER (WHERE substr(answers, q.n, 1) <> '?')::numeric / count(*), 4) AS asked_share,
       count(*) FILTER (WHERE disposition_mh IS NOT NULL) AS with_disposition,
       round(count(*) FILTER (WHERE screened_mh = disposition_mh)::numeric
             / nullif(count(*) FILTER (WHERE disposition_mh IS NOT NULL), 0), 4) AS screening_agreed_share
  FROM pmhc.screening_facts CROSS JOIN generate_series(1, 12) AS q(n)
 WHERE mental_health_call
 GROUP BY psap_id, 2, q.n;
COMMENT ON VIEW pmhc.screening_fidelity IS
    'Per PSAP, local month and screening question (1-12): the share of mental-health calls on which the question was asked (answered yes or no), and how often the call-taker''s MH screening (Q1 or Q2 yes) agreed with the disposition.';
COMMENT ON COLUMN pmhc.screening_fidelity.question IS 'Screening question number, 1-12, as in docs/spec.md.';
COMMENT ON COLUMN pmhc.screening_fidelity.asked_share IS 'Share of the month''s MH calls on which the question was answered yes or no.';
COMMENT ON COLUMN pmhc.screening_fidelity.with_disposition IS 'MH calls with a counted disposition (not cancelled, not no contact).';
COMMENT ON COLUMN pmhc.screening_fidelity.screening_agreed_share IS 'Of those, the share where the call-taker''s MH screening matched the disposition''s.';

-- The same per call-taker (by hash only), with small cells suppressed: for
-- training, never for discipline.
CREATE VIEW pmhc.screening_fidelity_by_call_taker AS
SELECT psap_id, date_trunc('month', received_local)::date AS month,
       encode(call_taker_hash, 'hex') AS call_taker,
       pmhc.small_cell(count(*), min(small_cell_threshold)) AS mh_calls,
       CASE WHEN pmhc.small_cell(count(*), min(small_cell_threshold)) IS NULL THEN NULL
            ELSE round(avg((length(replace(answers, '?', '')))::numeric / 12), 4) END AS asked_share,
       CASE WHEN pmhc.small_cell(count(*), min(small_cell_threshold)) IS NULL THEN NULL
            ELSE round(count(*) FILTER (WHERE screened_mh = disposition_mh)::numeric
                       / nullif(count(*) FILTER (WHERE disposition_mh IS NOT NULL), 0), 4) END AS screening_agreed_share
  FROM pmhc.screening_facts
 WHERE mental_health_call AND call_taker_hash IS NOT NULL
 GROUP BY 1, 2, 3;
COMMENT ON VIEW pmhc.screening_fidelity_by_call_taker IS
    'Per PSAP, local month and call-taker (the keyed hash of the id, never the id): MH calls, the share of the twelve questions asked, and agreement with the disposition; cells under the small-cell threshold suppressed.';

-- Nature codes the center's table and aliases do not know, so it can map them.
CREATE VIEW pmhc.unknown_nature_codes AS
SELECT psap_id, date_trunc('month', received_at)::date AS month, nature_code_mapped, count(*) AS calls
  FROM pmhc.calls
 WHERE nature_known = false AND nature_code_mapped <> ''
 GROUP BY 1, 2, 3;
COMMENT ON VIEW pmhc.unknown_nature_codes IS
    'Per PSAP and month (UTC), the mapped nature codes neither the code table nor the aliases know, and how many calls carried each.';

GRANT SELECT ON pmhc.screening_fidelity, pmhc.screening_fidelity_by_call_taker, pmhc.unknown_nature_codes
    TO pmhc_analyst;

COMMENT ON COLUMN pmhc.screening_facts.psap_id IS 'The answering point.';
COMMENT ON COLUMN pmhc.screening_facts.call_id IS 'The CAD''s call number.';
COMMENT ON COLUMN pmhc.screening_facts.received_local IS 'When the call was received, in the PSAP''s time zone.';
COMMENT ON COLUMN pmhc.screening_facts.mental_health_call IS 'Whether pmhcd classified the call as a mental-health call.';
COMMENT ON COLUMN pmhc.screening_facts.answers IS 'The twelve screening answers, Q1..Q12 as Y, N or ?.';
COMMENT ON COLUMN pmhc.screening_facts.call_taker_hash IS 'The keyed hash of the call-taker id; NULL when none was sent.';
COMMENT ON COLUMN pmhc.screening_facts.screened_mh IS 'Whether the call-taker screened the call as mental-health: Q1 or Q2 answered yes.';
COMMENT ON COLUMN pmhc.screening_facts.disposition_mh IS 'Whether the disposition says mental-health (connected to services, crisis center, involuntary hold, 988); NULL without a counted disposition.';
COMMENT ON COLUMN pmhc.screening_facts.small_cell_threshold IS 'The PSAP''s small-cell threshold.';
COMMENT ON COLUMN pmhc.screening_fidelity.psap_id IS 'The answering point.';
COMMENT ON COLUMN pmhc.screening_fidelity.month IS 'First day of the local month.';
COMMENT ON COLUMN pmhc.screening_fidelity.mh_calls IS 'Mental-health calls in the month with their answers stored.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.psap_id IS 'The answering point.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.month IS 'First day of the local month.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.call_taker IS 'The keyed hash of the call-taker id, in hex; never the id.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.mh_calls IS 'Mental-health calls the call-taker took; NULL when fewer than the small-cell threshold.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.asked_share IS 'Average share of the twelve questions answered yes or no; NULL when the cell is suppressed.';
COMMENT ON COLUMN pmhc.screening_fidelity_by_call_taker.screening_agreed_share IS 'Share of calls with a counted disposition where the MH screening matched it; NULL when suppressed.';
COMMENT ON COLUMN pmhc.unknown_nature_codes.psap_id IS 'The answering point.';
COMMENT ON COLUMN pmhc.unknown_nature_codes.month IS 'First day of the month (UTC).';
COMMENT ON COLUMN pmhc.unknown_nature_codes.nature_code_mapped IS 'The nature code after trimming, upper-casing and aliases, which the code table does not know.';
COMMENT ON COLUMN pmhc.unknown_nature_codes.calls IS 'Calls that carried it.';
