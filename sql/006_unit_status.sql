-- 006: the history of unit statuses from cad.units, for capacity analysis (how
-- long units of each kind are available, busy or out of service).

CREATE TABLE pmhc.unit_status (
    psap_id   text        NOT NULL,
    unit_id   text        NOT NULL,
    at        timestamptz NOT NULL,
    kind      text        NOT NULL
        CHECK (kind IN ('UNSPECIFIED', 'PATROL', 'CIT_OFFICER', 'CO_RESPONDER', 'MOBILE_CRISIS', 'EMS')),
    state     text        NOT NULL
        CHECK (state IN ('UNSPECIFIED', 'AVAILABLE', 'DISPATCHED', 'ON_SCENE', 'OUT_OF_SERVICE')),
    beat      text,
    district  text,
    lat       double precision CHECK (lat BETWEEN -90 AND 90),
    lon       double precision CHECK (lon BETWEEN -180 AND 180),
    stored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (psap_id, unit_id, at),
    CHECK ((lat IS NULL) = (lon IS NULL))
);

COMMENT ON TABLE pmhc.unit_status IS
    'Every unit status pmhcd has read from cad.units, once each (several instances and replays insert the same status once). Two statuses of a unit with the same at keep the first stored.';
COMMENT ON COLUMN pmhc.unit_status.psap_id IS 'The PSAP the unit belongs to.';
COMMENT ON COLUMN pmhc.unit_status.unit_id IS 'The CAD''s unit id, unique within the PSAP.';
COMMENT ON COLUMN pmhc.unit_status.at IS 'When the status took effect (CAD time).';
COMMENT ON COLUMN pmhc.unit_status.kind IS 'UnitKind without its UNIT_ prefix.';
COMMENT ON COLUMN pmhc.unit_status.state IS 'UnitState without its UNIT_ prefix.';
COMMENT ON COLUMN pmhc.unit_status.beat IS 'The unit''s beat; NULL when the CAD gave none.';
COMMENT ON COLUMN pmhc.unit_status.district IS 'The unit''s district; NULL when the CAD gave none.';
COMMENT ON COLUMN pmhc.unit_status.lat IS 'WGS84 latitude; NULL when unknown.';
COMMENT ON COLUMN pmhc.unit_status.lon IS 'WGS84 longitude; NULL when unknown.';
COMMENT ON COLUMN pmhc.unit_status.stored_at IS 'When pmhcd stored it.';

CREATE INDEX unit_status_at ON pmhc.unit_status (at);

GRANT SELECT, INSERT ON pmhc.unit_status TO pmhc_writer;
GRANT SELECT ON pmhc.unit_status TO pmhc_analyst;
