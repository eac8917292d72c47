-- 001: the classified calls, the audit trail of every decision, and rejected input.
-- Applied by pmhcd at start, in one transaction, recorded in pmhc.schema_migrations.

CREATE TABLE pmhc.calls (
    psap_id            text        NOT NULL,
    call_id            text        NOT NULL,
    revision           bigint      NOT NULL CHECK (revision BETWEEN 0 AND 4294967295),
    received_at        timestamptz NOT NULL,
    source             text        NOT NULL
        CHECK (source IN ('UNSPECIFIED', '911', '988', 'ADMIN', 'OFFICER_INITIATED', 'TEXT')),
    nature_code        text        NOT NULL,
    nature_code_mapped text        NOT NULL,
    nature_text        text        NOT NULL DEFAULT '',
    premise_flags      text[]      NOT NULL DEFAULT '{}',
    flags              text[]      NOT NULL,
    mental_health_call boolean     NOT NULL,
    rule_id            text        NOT NULL,
    response           text        NOT NULL
        CHECK (response IN ('STANDARD', 'CIT', 'CIT_WITH_BACKUP', 'CO_RESPONDER',
                            'MOBILE_CRISIS', 'EMS_AND_CIT')),
    dispatch_code      text        NOT NULL,
    unit_ids           text[]      NOT NULL DEFAULT '{}',
    fallback_used      boolean     NOT NULL DEFAULT false,
    rules_version      text        NOT NULL CHECK (rules_version ~ '^[0-9a-f]{64}$'),
    decided_at         timestamptz NOT NULL,
    beat               text,
    district           text,
    lat                double precision CHECK (lat BETWEEN -90 AND 90),
    lon                double precision CHECK (lon BETWEEN -180 AND 180),
    subject_hash       bytea       CHECK (octet_length(subject_hash) = 32),
    narrative          text,
    backfilled         boolean     NOT NULL DEFAULT false,
    source_partition   integer,
    source_offset      bigint,
    PRIMARY KEY (psap_id, call_id),
    CHECK ((lat IS NULL) = (lon IS NULL))
);

COMMENT ON TABLE pmhc.calls IS
    'One row per call (psap_id, call_id): its newest revision, how pmhcd classified it and what it recommended. Older or equal revisions never overwrite a newer one.';
COMMENT ON COLUMN pmhc.calls.psap_id IS 'The answering point (PSAP) that took the call.';
COMMENT ON COLUMN pmhc.calls.call_id IS 'The CAD''s call number, unique within the PSAP.';
COMMENT ON COLUMN pmhc.calls.revision IS 'CAD revision of the stored event; 0 = the CAD does not version its events (then the latest event wins).';
COMMENT ON COLUMN pmhc.calls.received_at IS 'When the call was received (CAD time; arrival time when the CAD''s was implausible).';
COMMENT ON COLUMN pmhc.calls.source IS 'How the call came in: 911, 988, ADMIN, OFFICER_INITIATED, TEXT or UNSPECIFIED.';
COMMENT ON COLUMN pmhc.calls.nature_code IS 'The CAD call-type code exactly as received.';
COMMENT ON COLUMN pmhc.calls.nature_code_mapped IS 'The code after trimming, upper-casing and the center''s alias table (ideally an APCO common incident type).';
COMMENT ON COLUMN pmhc.calls.nature_text IS 'The CAD''s description of the call type.';
COMMENT ON COLUMN pmhc.calls.premise_flags IS 'CAD location flags on the call (e.g. MH_HISTORY, WEAPONS_HISTORY).';
COMMENT ON COLUMN pmhc.calls.flags IS 'Standardized screening flags that held (SPEC section 2), e.g. {MH,WEAPON}.';
COMMENT ON COLUMN pmhc.calls.mental_health_call IS 'Whether the call is a mental-health call (flag MH).';
COMMENT ON COLUMN pmhc.calls.rule_id IS 'The flowchart rule that decided the response.';
COMMENT ON COLUMN pmhc.calls.response IS 'The recommended response type.';
COMMENT ON COLUMN pmhc.calls.dispatch_code IS 'The designated dispatch code of the rule (empty for calls that are not mental-health calls).';
COMMENT ON COLUMN pmhc.calls.unit_ids IS 'The units pmhcd recommended.';
COMMENT ON COLUMN pmhc.calls.fallback_used IS 'Whether a needed unit kind was not free and another kind was recommended instead (or nothing).';
COMMENT ON COLUMN pmhc.calls.rules_version IS 'SHA-256 of the rules in force when the call was decided.';
COMMENT ON COLUMN pmhc.calls.decided_at IS 'When pmhcd decided this revision.';
COMMENT ON COLUMN pmhc.calls.beat IS 'The call''s beat; NULL when the CAD gave none.';
COMMENT ON COLUMN pmhc.calls.district IS 'The call''s district; NULL when the CAD gave none.';
COMMENT ON COLUMN pmhc.calls.lat IS 'WGS84 latitude; NULL when the position is unknown.';
COMMENT ON COLUMN pmhc.calls.lon IS 'WGS84 longitude; NULL when the position is unknown.';
COMMENT ON COLUMN pmhc.calls.subject_hash IS 'HMAC-SHA256 of the person''s CAD/RMS key under the center''s secret; NULL when the CAD gave no key. The key itself is never stored.';
COMMENT ON COLUMN pmhc.calls.narrative IS 'The call-taker''s narrative; NULL unless privacy.store_narrative is set.';
COMMENT ON COLUMN pmhc.calls.backfilled IS 'Loaded from history by pmhcd --backfill, not decided live.';
COMMENT ON COLUMN pmhc.calls.source_partition IS 'Kafka partition the stored event was read from.';
COMMENT ON COLUMN pmhc.calls.source_offset IS 'Kafka offset the stored event was read from.';

CREATE INDEX calls_received_at ON pmhc.calls (received_at);
CREATE INDEX calls_mh_psap_received ON pmhc.calls (psap_id, received_at) WHERE mental_health_call;
CREATE INDEX calls_subject ON pmhc.calls (subject_hash, received_at) WHERE subject_hash IS NOT NULL;

CREATE TABLE pmhc.decisions (
    psap_id            text        NOT NULL,
    call_id            text        NOT NULL,
    revision           bigint      NOT NULL CHECK (revision BETWEEN 0 AND 4294967295),
    decided_at         timestamptz NOT NULL,
    rules_version      text        NOT NULL CHECK (rules_version ~ '^[0-9a-f]{64}$'),
    nature_code_mapped text        NOT NULL,
    flags              text[]      NOT NULL,
    mental_health_call boolean     NOT NULL,
    rule_id            text        NOT NULL,
    response           text        NOT NULL,
    dispatch_code      text        NOT NULL,
    unit_ids           text[]      NOT NULL DEFAULT '{}',
    fallback_used      boolean     NOT NULL DEFAULT false,
    reasons            text[]      NOT NULL DEFAULT '{}',
    summary            text        NOT NULL DEFAULT '',
    backfilled         boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (psap_id, call_id, revision)
);

COMMENT ON TABLE pmhc.decisions IS
    'Audit trail: one row per call revision decided, with everything needed to explain the dispatch later. Revision 0 rows are replaced by later unversioned events.';
COMMENT ON COLUMN pmhc.decisions.psap_id IS 'The answering point (PSAP) that took the call.';
COMMENT ON COLUMN pmhc.decisions.call_id IS 'The CAD''s call number, unique within the PSAP.';
COMMENT ON COLUMN pmhc.decisions.revision IS 'The CAD revision this decision is for.';
COMMENT ON COLUMN pmhc.decisions.decided_at IS 'When pmhcd decided it.';
COMMENT ON COLUMN pmhc.decisions.rules_version IS 'SHA-256 of the rules in force (flowchart, mappings, codes).';
COMMENT ON COLUMN pmhc.decisions.nature_code_mapped IS 'The nature code the rules saw, after the alias table.';
COMMENT ON COLUMN pmhc.decisions.flags IS 'Every screening flag that held (the full set, whatever the sharing policy withheld from dispatch).';
COMMENT ON COLUMN pmhc.decisions.mental_health_call IS 'Whether flag MH held.';
COMMENT ON COLUMN pmhc.decisions.rule_id IS 'The first flowchart rule that matched.';
COMMENT ON COLUMN pmhc.decisions.response IS 'The response type that rule recommends.';
COMMENT ON COLUMN pmhc.decisions.dispatch_code IS 'The rule''s designated dispatch code.';
COMMENT ON COLUMN pmhc.decisions.unit_ids IS 'The units recommended.';
COMMENT ON COLUMN pmhc.decisions.fallback_used IS 'Whether a fallback unit kind was needed.';
COMMENT ON COLUMN pmhc.decisions.reasons IS 'Why each flag held, in the words sent to the dispatcher.';
COMMENT ON COLUMN pmhc.decisions.summary IS 'The one-sentence summary sent to the dispatcher.';
COMMENT ON COLUMN pmhc.decisions.backfilled IS 'Decided by pmhcd --backfill from history, not live.';

CREATE TABLE pmhc.rejected_events (
    source_topic     text        NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    rejected_at      timestamptz NOT NULL DEFAULT now(),
    reason           text        NOT NULL,
    size_bytes       integer     NOT NULL,
    payload_sha256   bytea       NOT NULL CHECK (octet_length(payload_sha256) = 32),
    PRIMARY KEY (source_topic, source_partition, source_offset)
);

COMMENT ON TABLE pmhc.rejected_events IS
    'Input pmhcd refused (SPEC section 8). The payload itself is only on the DLQ topic: it may hold a subject key in clear.';
COMMENT ON COLUMN pmhc.rejected_events.source_topic IS 'Topic the message was read from.';
COMMENT ON COLUMN pmhc.rejected_events.source_partition IS 'Partition it was read from.';
COMMENT ON COLUMN pmhc.rejected_events.source_offset IS 'Offset it was read from; with topic and partition, finds it on the DLQ by its pmhc-source-* headers.';
COMMENT ON COLUMN pmhc.rejected_events.rejected_at IS 'When pmhcd rejected it.';
COMMENT ON COLUMN pmhc.rejected_events.reason IS 'Why, as in the DLQ message''s pmhc-reason header.';
COMMENT ON COLUMN pmhc.rejected_events.size_bytes IS 'Payload size in bytes.';
COMMENT ON COLUMN pmhc.rejected_events.payload_sha256 IS 'SHA-256 of the payload, to match it with the DLQ copy.';
