-- 002: how each call ended. A disposition may arrive before its call event: it is
-- kept here on its own and joined to pmhc.calls by (psap_id, call_id) when read.

CREATE TABLE pmhc.dispositions (
    psap_id               text        NOT NULL,
    call_id               text        NOT NULL,
    closed_at             timestamptz NOT NULL,
    code                  text        NOT NULL
        CHECK (code IN ('UNSPECIFIED', 'RESOLVED_ON_SCENE', 'REFERRED', 'TRANSPORTED_CRISIS_CENTER',
                        'TRANSPORTED_ER', 'INVOLUNTARY_HOLD', 'ARREST', 'CITATION', 'TRANSFERRED_988',
                        'NO_CONTACT', 'CANCELLED')),
    unit_ids              text[]      NOT NULL DEFAULT '{}',
    arrest                boolean     NOT NULL DEFAULT false,
    use_of_force          boolean     NOT NULL DEFAULT false,
    connected_to_services boolean     NOT NULL DEFAULT false,
    service_unavailable   boolean     NOT NULL DEFAULT false,
    service_name          text        NOT NULL DEFAULT '',
    backfilled            boolean     NOT NULL DEFAULT false,
    source_partition      integer,
    source_offset         bigint,
    stored_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (psap_id, call_id)
);

COMMENT ON TABLE pmhc.dispositions IS
    'How each call ended, one row per call: the latest disposition by closed_at (equal closed_at: the later arrival). May precede its call in pmhc.calls.';
COMMENT ON COLUMN pmhc.dispositions.psap_id IS 'The answering point (PSAP) that took the call.';
COMMENT ON COLUMN pmhc.dispositions.call_id IS 'The CAD''s call number; joins pmhc.calls.';
COMMENT ON COLUMN pmhc.dispositions.closed_at IS 'When the CAD closed the call (arrival time when the CAD''s was implausible).';
COMMENT ON COLUMN pmhc.dispositions.code IS 'The CAD disposition code, DispositionCode without its DISP_ prefix.';
COMMENT ON COLUMN pmhc.dispositions.unit_ids IS 'The units that actually went.';
COMMENT ON COLUMN pmhc.dispositions.arrest IS 'An arrest was made (code ARREST counts as an arrest too).';
COMMENT ON COLUMN pmhc.dispositions.use_of_force IS 'Force was used.';
COMMENT ON COLUMN pmhc.dispositions.connected_to_services IS 'The person was connected to services (codes REFERRED, TRANSPORTED_CRISIS_CENTER and TRANSFERRED_988 count too).';
COMMENT ON COLUMN pmhc.dispositions.service_unavailable IS 'A referral was wanted but the service had no capacity or the person was ineligible.';
COMMENT ON COLUMN pmhc.dispositions.service_name IS 'The service referred to, or the one that was unavailable.';
COMMENT ON COLUMN pmhc.dispositions.backfilled IS 'Loaded by pmhcd --backfill from history.';
COMMENT ON COLUMN pmhc.dispositions.source_partition IS 'Kafka partition the stored disposition was read from.';
COMMENT ON COLUMN pmhc.dispositions.source_offset IS 'Kafka offset the stored disposition was read from; orders equal closed_at.';
COMMENT ON COLUMN pmhc.dispositions.stored_at IS 'When pmhcd stored this version.';

CREATE INDEX dispositions_closed_at ON pmhc.dispositions (closed_at);
