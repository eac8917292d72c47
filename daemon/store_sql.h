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
/* Every connection's search_path, set right after connecting (store.c explains). */
#define SQL_PIN_SEARCH_PATH "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)"

/* The repeat rules in force, per PSAP and the default ("*"), for backfill's first guess at the flags. */
#define SQL_REPEAT_RULES                                                                                               \
	"SELECT psap_id, max(value) FILTER (WHERE key = 'repeat_threshold'), "                                         \
	"max(value) FILTER (WHERE key = 'repeat_window_days') FROM pmhc.definitions "                                  \
	"WHERE key IN ('repeat_threshold', 'repeat_window_days') GROUP BY psap_id"
/*
 * Whether this connection's writes leave the hourly summary and the repeat flags
 * to the final pass (migration 014): on for backfill, and said off for the live
 * path, so that a setting a DBA gave the role or database cannot defer live writes.
 */
#define SQL_DEFER_DERIVED_ON "SELECT pg_catalog.set_config('pmhc.deferred', 'on', false)"
#define SQL_DEFER_DERIVED_OFF "SELECT pg_catalog.set_config('pmhc.deferred', 'off', false)"
/* The final pass of a backfill: what the deferred writes left, recomputed. */
#define SQL_FINISH_BACKFILL "SELECT subjects, calls_changed, hours FROM pmhc.finish_backfill()"

#define SQL_BEGIN "BEGIN"
#define SQL_COMMIT "COMMIT"
#define SQL_ROLLBACK "ROLLBACK"

/* ---- the prepared statements' names ---- */

#define SQL_STMT_INSERT_UNIT_STATUS "pmhc_insert_unit_status"
#define SQL_STMT_INSERT_REJECTED "pmhc_insert_rejected"
#define SQL_STMT_MOVE_CALLS "pmhc_move_calls"
#define SQL_STMT_MOVE_DISPOSITIONS "pmhc_move_dispositions"

/*
 * ---- the statements made from the column tables (store_cols.c) ----
 *
 * Each %s is a list the tables generate, in the order the comment says. The
 * staging tables name their columns as the real tables do.
 */

/* How SQL converts a column's text: %s is a staged column or a parameter. */
#define SQL_AS_TIMESTAMP "pg_catalog.to_timestamp((%s)::pg_catalog.float8 / 1000::pg_catalog.float8)"
#define SQL_AS_BYTEA "pg_catalog.decode(%s, 'hex')"

/* A replayed rejection finds its row already there: the key is its Kafka position. %s: columns, parameters. */
#define SQL_INSERT_REJECTED "INSERT INTO pmhc.rejected_events (%s) VALUES (%s) ON CONFLICT DO NOTHING"
/* Each status once, whichever instance or replay brings it first. %s: columns, parameters. */
#define SQL_INSERT_UNIT_STATUS "INSERT INTO pmhc.unit_status (%s) VALUES (%s) ON CONFLICT DO NOTHING"

/* %s: every column of the kind of row, with its type. */
#define SQL_STAGE_CALLS "CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_calls (%s)"
#define SQL_STAGE_DISPOSITIONS "CREATE TEMP TABLE IF NOT EXISTS pmhc_stage_dispositions (%s)"

/* %s: the columns. */
#define SQL_COPY_CALLS "COPY pmhc.calls (%s) FROM STDIN"
#define SQL_COPY_DECISIONS "COPY pmhc.decisions (%s) FROM STDIN"
#define SQL_COPY_DISPOSITIONS "COPY pmhc.dispositions (%s) FROM STDIN"
/* Every column, in the staging table's order. */
#define SQL_COPY_STAGE_CALLS "COPY pmhc_stage_calls FROM STDIN"
#define SQL_COPY_STAGE_DISPOSITIONS "COPY pmhc_stage_dispositions FROM STDIN"

/*
 * The replacement rule, applied first within the batch, then against what is
 * stored: a call keeps its latest disposition by closed_at; a tie goes to the
 * lowest partition, then the latest offset. %s: the columns, their values
 * from staging, and what a newer disposition replaces.
 */
#define SQL_MOVE_DISPOSITIONS                                                                                          \
	"INSERT INTO pmhc.dispositions AS t (%s)"                                                                      \
	" SELECT DISTINCT ON (psap_id, call_id) %s"                                                                    \
	"   FROM pmhc_stage_dispositions"                                                                              \
	"  ORDER BY psap_id, call_id, closed_at DESC, source_partition, source_offset DESC"                            \
	" ON CONFLICT (psap_id, call_id) DO UPDATE SET %s, stored_at = now()"                                          \
	" WHERE EXCLUDED.closed_at > t.closed_at"                                                                      \
	"  OR (EXCLUDED.closed_at = t.closed_at AND NOT (EXCLUDED.source_partition = t.source_partition"               \
	"      AND EXCLUDED.source_offset < t.source_offset))"

/*
 * The calls' rules. A revision counts when it is 0 (unversioned) or newer than
 * every earlier arrival of the same call and than the stored one; each that
 * counts gets a decision, and the call keeps its highest. Ties go to the
 * lowest partition, then the latest offset (pick.c decides the same in memory
 * for the direct COPY). %s: pmhc.calls' columns, their values from staging,
 * and what a newer revision replaces; then the same three for pmhc.decisions.
 */
#define SQL_MOVE_CALLS                                                                                                 \
	"WITH ordered AS ("                                                                                            \
	"  SELECT s.*, max(revision) OVER (PARTITION BY psap_id, call_id ORDER BY source_partition, source_offset"     \
	"                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_max"           \
	"    FROM pmhc_stage_calls s"                                                                                  \
	"), fresh AS ("                                                                                                \
	"  SELECT o.* FROM ordered o"                                                                                  \
	"   WHERE o.revision = 0 OR (o.revision > coalesce(o.earlier_max, -1) AND NOT EXISTS ("                        \
	"         SELECT 1 FROM pmhc.calls c"                                                                          \
	"          WHERE c.psap_id = o.psap_id AND c.call_id = o.call_id AND c.revision >= o.revision))"               \
	"), latest AS ("                                                                                               \
	"  SELECT DISTINCT ON (psap_id, call_id) * FROM fresh"                                                         \
	"   ORDER BY psap_id, call_id, revision DESC, source_partition, source_offset DESC"                            \
	"), up AS ("                                                                                                   \
	"  INSERT INTO pmhc.calls AS t (%s)"                                                                           \
	"  SELECT %s FROM latest"                                                                                      \
	"  ON CONFLICT (psap_id, call_id) DO UPDATE SET %s"                                                            \
	"   WHERE EXCLUDED.revision = 0 OR EXCLUDED.revision > t.revision"                                             \
	"  RETURNING 1"                                                                                                \
	"), dec AS ("                                                                                                  \
	"  INSERT INTO pmhc.decisions AS d (%s)"                                                                       \
	"  SELECT DISTINCT ON (psap_id, call_id, revision) %s FROM fresh"                                              \
	"   ORDER BY psap_id, call_id, revision, source_partition, source_offset DESC"                                 \
	"  ON CONFLICT (psap_id, call_id, revision) DO UPDATE SET %s"                                                  \
	"   WHERE EXCLUDED.revision = 0"                                                                               \
	"  RETURNING 1"                                                                                                \
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
