/*
 * Every SQL text the store sends, in one place. Only daemon/store*.c include it.
 */
#ifndef PMHC_STORE_SQL_H
#define PMHC_STORE_SQL_H

/* ---- the connection ---- */

/*
 * How long a batch waits for a lock someone else holds on pmhcd's tables
 * before it fails and is retried: far longer than any of pmhcd's own writers
 * holds one (a merge takes milliseconds), short enough that a lock a DBA left
 * open is in the log within seconds, not when someone wonders why nothing is
 * stored.
 */
#define SQL_LOCK_TIMEOUT "10s"
#define SQL_SHOW_LOCK_TIMEOUT "SHOW lock_timeout"
#define SQL_SET_LOCK_TIMEOUT "SET lock_timeout = '" SQL_LOCK_TIMEOUT "'"
#define SQL_JIT_OFF "SET jit = off"

#define SQL_BEGIN "BEGIN"
#define SQL_COMMIT "COMMIT"
#define SQL_ROLLBACK "ROLLBACK"

/* ---- migrations ---- */

/* Takes an integer key: the lock that serializes instances starting at once. */
#define SQL_MIGRATION_LOCK "SELECT pg_advisory_lock(%d)"
#define SQL_MIGRATION_UNLOCK "SELECT pg_advisory_unlock(%d)"

#define SQL_SCHEMA_MIGRATIONS \
	"CREATE SCHEMA IF NOT EXISTS pmhc;" \
	"CREATE TABLE IF NOT EXISTS pmhc.schema_migrations (" \
	" version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL," \
	" applied_at timestamptz NOT NULL DEFAULT now());" \
	"COMMENT ON TABLE pmhc.schema_migrations IS " \
	"'Which numbered migrations of sql/ pmhcd has applied, and a hash of each as applied.';" \
	"COMMENT ON COLUMN pmhc.schema_migrations.version IS 'The migration''s number (NNN of sql/NNN_*.sql).';" \
	"COMMENT ON COLUMN pmhc.schema_migrations.name IS 'The migration''s file name.';" \
	"COMMENT ON COLUMN pmhc.schema_migrations.sha256 IS 'SHA-256 of the migration as applied; pmhcd warns if its own copy differs.';" \
	"COMMENT ON COLUMN pmhc.schema_migrations.applied_at IS 'When it was applied.'"

#define SQL_MIGRATION_HASH "SELECT sha256 FROM pmhc.schema_migrations WHERE version = $1"
#define SQL_MIGRATION_RECORD "INSERT INTO pmhc.schema_migrations (version, name, sha256) VALUES ($1, $2, $3)"

/* ---- the columns written, in the order of their values ---- */

#define CALLS_COLUMNS \
	"psap_id, call_id, revision, received_at, source, nature_code, nature_code_mapped, nature_text," \
	" premise_flags, flags, mental_health_call, rule_id, response, dispatch_code, unit_ids, fallback_used," \
	" rules_version, decided_at, beat, district, lat, lon, subject_hash, narrative, backfilled," \
	" source_partition, source_offset"

#define DECISIONS_COLUMNS \
	"psap_id, call_id, revision, decided_at, rules_version, nature_code_mapped, flags, mental_health_call," \
	" rule_id, response, dispatch_code, unit_ids, fallback_used, reasons, summary, backfilled"

#define DISPOSITIONS_COLUMNS \
	"psap_id, call_id, closed_at, code, unit_ids, arrest, use_of_force, connected_to_services," \
	" service_unavailable, service_name, backfilled, source_partition, source_offset"

/* What a newer version of a row replaces, and when: the merge statements' rules. */
#define CALLS_UPDATE \
	" revision = EXCLUDED.revision, received_at = EXCLUDED.received_at, source = EXCLUDED.source," \
	" nature_code = EXCLUDED.nature_code, nature_code_mapped = EXCLUDED.nature_code_mapped," \
	" nature_text = EXCLUDED.nature_text, premise_flags = EXCLUDED.premise_flags, flags = EXCLUDED.flags," \
	" mental_health_call = EXCLUDED.mental_health_call, rule_id = EXCLUDED.rule_id," \
	" response = EXCLUDED.response, dispatch_code = EXCLUDED.dispatch_code, unit_ids = EXCLUDED.unit_ids," \
	" fallback_used = EXCLUDED.fallback_used, rules_version = EXCLUDED.rules_version," \
	" decided_at = EXCLUDED.decided_at, beat = EXCLUDED.beat, district = EXCLUDED.district," \
	" lat = EXCLUDED.lat, lon = EXCLUDED.lon, subject_hash = EXCLUDED.subject_hash," \
	" narrative = EXCLUDED.narrative, backfilled = EXCLUDED.backfilled," \
	" source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset" \
	" WHERE EXCLUDED.revision = 0 OR EXCLUDED.revision > t.revision"

#define DECISIONS_UPDATE \
	" decided_at = EXCLUDED.decided_at, rules_version = EXCLUDED.rules_version," \
	" nature_code_mapped = EXCLUDED.nature_code_mapped, flags = EXCLUDED.flags," \
	" mental_health_call = EXCLUDED.mental_health_call, rule_id = EXCLUDED.rule_id," \
	" response = EXCLUDED.response, dispatch_code = EXCLUDED.dispatch_code, unit_ids = EXCLUDED.unit_ids," \
	" fallback_used = EXCLUDED.fallback_used, reasons = EXCLUDED.reasons, summary = EXCLUDED.summary," \
	" backfilled = EXCLUDED.backfilled" \
	" WHERE EXCLUDED.revision = 0"

#define DISPOSITIONS_UPDATE \
	" closed_at = EXCLUDED.closed_at, code = EXCLUDED.code, unit_ids = EXCLUDED.unit_ids," \
	" arrest = EXCLUDED.arrest, use_of_force = EXCLUDED.use_of_force," \
	" connected_to_services = EXCLUDED.connected_to_services," \
	" service_unavailable = EXCLUDED.service_unavailable, service_name = EXCLUDED.service_name," \
	" backfilled = EXCLUDED.backfilled, source_partition = EXCLUDED.source_partition," \
	" source_offset = EXCLUDED.source_offset, stored_at = now()" \
	" WHERE EXCLUDED.closed_at > t.closed_at" \
	"  OR (EXCLUDED.closed_at = t.closed_at AND NOT (EXCLUDED.source_partition = t.source_partition" \
	"      AND EXCLUDED.source_offset < t.source_offset))"

/* ---- the statement path ---- */

#define SQL_REJECT_NPARAMS 6

/* A replayed rejection finds its row already there: the key is its Kafka position. */
#define SQL_INSERT_REJECTED \
	"INSERT INTO pmhc.rejected_events (source_topic, source_partition, source_offset, reason," \
	" size_bytes, payload_sha256) VALUES ($1, $2, $3, $4, $5, decode($6, 'hex'))" \
	" ON CONFLICT DO NOTHING"

#define SQL_UNIT_NPARAMS 9

/* Each status once, whichever instance or replay brings it first. */
#define SQL_INSERT_UNIT_STATUS \
	"INSERT INTO pmhc.unit_status (psap_id, unit_id, at, kind, state, beat, district, lat, lon)" \
	" VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4, $5, $6, $7, $8, $9)" \
	" ON CONFLICT DO NOTHING"

/* ---- the COPY path ---- */

#define SQL_STAGE_CALLS \
	"CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_calls (" \
	" p1 text, p2 text, p3 bigint, p4 bigint, p5 text, p6 text, p7 text, p8 text, p9 text[], p10 text[]," \
	" p11 boolean, p12 text, p13 text, p14 text, p15 text[], p16 boolean, p17 text, p18 bigint, p19 text," \
	" p20 text, p21 double precision, p22 double precision, p23 text, p24 text, p25 boolean, p26 integer," \
	" p27 bigint, p28 text[], p29 text)"

#define SQL_STAGE_DISPOSITIONS \
	"CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_dispositions (" \
	" p1 text, p2 text, p3 bigint, p4 text, p5 text[], p6 boolean, p7 boolean, p8 boolean, p9 boolean," \
	" p10 text, p11 boolean, p12 integer, p13 bigint)"

#define SQL_COPY_CALLS "COPY pmhc.calls (" CALLS_COLUMNS ") FROM STDIN"
#define SQL_COPY_DECISIONS "COPY pmhc.decisions (" DECISIONS_COLUMNS ") FROM STDIN"
#define SQL_COPY_DISPOSITIONS "COPY pmhc.dispositions (" DISPOSITIONS_COLUMNS ") FROM STDIN"
#define SQL_COPY_STAGE_CALLS "COPY pmhc_stage_calls FROM STDIN"
#define SQL_COPY_STAGE_DISPOSITIONS "COPY pmhc_stage_dispositions FROM STDIN"

/* The replacement rule, applied first within the batch, then against what is stored. */
#define SQL_MOVE_DISPOSITIONS \
	"INSERT INTO pmhc.dispositions AS t (" DISPOSITIONS_COLUMNS ")" \
	" SELECT DISTINCT ON (p1, p2) p1, p2, to_timestamp(p3 / 1000.0), p4, p5, p6, p7, p8, p9, p10, p11, p12, p13" \
	"   FROM pmhc_stage_dispositions ORDER BY p1, p2, p3 DESC, p12, p13 DESC" \
	" ON CONFLICT (psap_id, call_id) DO UPDATE SET" \
	DISPOSITIONS_UPDATE

#define SQL_MOVE_CALLS \
	"WITH ordered AS (" \
	"  SELECT s.*, max(p3) OVER (PARTITION BY p1, p2 ORDER BY p26, p27" \
	"                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max" \
	"    FROM pmhc_stage_calls s" \
	"), fresh AS (" \
	"  SELECT o.* FROM ordered o" \
	"   WHERE p3 = 0 OR (p3 > coalesce(earlier_max, -1) AND NOT EXISTS (" \
	"         SELECT 1 FROM pmhc.calls c WHERE c.psap_id = o.p1 AND c.call_id = o.p2 AND c.revision >= o.p3))" \
	"), latest AS (" \
	"  SELECT DISTINCT ON (p1, p2) * FROM fresh ORDER BY p1, p2, p3 DESC, p26, p27 DESC" \
	"), up AS (" \
	"  INSERT INTO pmhc.calls AS t (" CALLS_COLUMNS ")" \
	"  SELECT p1, p2, p3, to_timestamp(p4 / 1000.0), p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17," \
	"   to_timestamp(p18 / 1000.0), p19, p20, p21, p22, decode(p23, 'hex'), p24, p25, p26, p27 FROM latest" \
	"  ON CONFLICT (psap_id, call_id) DO UPDATE SET" \
	CALLS_UPDATE \
	"  RETURNING 1" \
	"), dec AS (" \
	"  INSERT INTO pmhc.decisions AS d (" DECISIONS_COLUMNS ")" \
	"  SELECT DISTINCT ON (p1, p2, p3) p1, p2, p3, to_timestamp(p18 / 1000.0), p17, p7, p10, p11, p12, p13, p14," \
	"   p15, p16, p28, p29, p25 FROM fresh ORDER BY p1, p2, p3, p26, p27 DESC" \
	"  ON CONFLICT (psap_id, call_id, revision) DO UPDATE SET" \
	DECISIONS_UPDATE \
	"  RETURNING 1" \
	") SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM dec)"

/* The direct COPY goes in under a savepoint, rolled back when it meets stored rows. */
#define SQL_SAVEPOINT "SAVEPOINT pmhc_direct"
#define SQL_RELEASE_SAVEPOINT "RELEASE SAVEPOINT pmhc_direct"
#define SQL_ROLLBACK_SAVEPOINT "ROLLBACK TO SAVEPOINT pmhc_direct"

/* Empties a staging table: TRUNCATE gives its pages back, DELETE costs less (see store_copy.c). */
#define SQL_TRUNCATE_STAGE_CALLS "TRUNCATE pmhc_stage_calls"
#define SQL_DELETE_STAGE_CALLS "DELETE FROM pmhc_stage_calls"
#define SQL_TRUNCATE_STAGE_DISPOSITIONS "TRUNCATE pmhc_stage_dispositions"
#define SQL_DELETE_STAGE_DISPOSITIONS "DELETE FROM pmhc_stage_dispositions"

#endif
