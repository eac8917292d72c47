/*
 * PostgreSQL: connection with retries, migrations at start, and batched writes,
 * each batch one transaction: calls, decisions and dispositions by COPY, unit
 * statuses and rejected inputs as pipelined prepared statements.
 * One store per thread: a PGconn is not shared.
 */
#ifndef PMHC_STORE_H
#define PMHC_STORE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "flags.h"
#include "pmhc.pb-c.h"
#include "screen.h"
#include "subject.h"

/* Everything stored for one decided call revision. Strings are borrowed. */
struct pmhc_call_row {
	const Pmhc__V1__CallEvent *call;
	const char *nature_mapped;
	pmhc_flagset flags;
	bool mental_health_call;
	const char *rule_id;
	int response;
	const char *dispatch_code;
	char **unit_ids;
	size_t n_unit_ids;
	bool fallback_used;
	const char *rules_version;
	int64_t decided_at_ms;
	char **reasons;
	size_t n_reasons;
	const char *summary;
	bool has_subject_hash;
	unsigned char subject_hash[PMHC_SUBJECT_HASH_LEN];
	bool has_call_taker_hash; /* the call-taker id, keyed like the subject: never stored in clear */
	unsigned char call_taker_hash[PMHC_SUBJECT_HASH_LEN];
	bool nature_known;                     /* the code table or an alias knows the mapped nature code */
	char answers[PMHC_QUESTION_COUNT + 1]; /* pmhc_answers_text: what the decision was made on */
	bool store_narrative;
	bool backfilled;
	bool repeat_guess; /* history: the first guess at repeat_encounter (repeats.h); live, false */
	bool unseen;       /* live: the call's first revision, met for the first time: most likely not stored */
	int32_t partition;
	int64_t offset;
};

/* An input refused by wire.c: its DLQ copy is on Kafka, this is its record. */
struct pmhc_rejected_row {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *reason;
	size_t size;
	unsigned char payload_sha256[PMHC_SHA256_LEN];
};

/* A disposition to store; strings borrowed from the decoded message. */
struct pmhc_disposition_row {
	const Pmhc__V1__Disposition *disp;
	bool backfilled;
	int32_t partition;
	int64_t offset;
};

struct pmhc_store_result {
	size_t applied; /* rows that stored a new revision */
	size_t stale;   /* revisions at or below the stored one: nothing changed */
};

struct pmhc_store;
struct pmhc_repeats;

/*
 * Connects, retrying with capped backoff for up to timeout_s seconds (or until
 * *stop is set). NULL when it never got through; the last error is logged.
 */
struct pmhc_store *pmhc_store_open(const char *conninfo, int timeout_s, const volatile sig_atomic_t *stop);
void pmhc_store_close(struct pmhc_store *s);

/*
 * pmhcd --migrate, on a DBA's connection: creates the pmhc_* roles and schema
 * pmhc, applies the embedded migrations not yet recorded in
 * pmhc.schema_migrations and hands everything to pmhc_owner. A sysexits code:
 * EX_OK, EX_PROTOCOL when the schema is ahead of this pmhcd, else
 * EX_UNAVAILABLE (the reason logged).
 */
int pmhc_store_migrate(struct pmhc_store *s);

/*
 * The daemon's start: reads pmhc.schema_migrations only. EX_OK when it holds
 * exactly the embedded migrations; EX_PROTOCOL when the schema is missing,
 * behind or ahead; EX_NOPERM when the role may not read it; EX_UNAVAILABLE on
 * any other failure. Why, and what to do, is logged.
 */
int pmhc_store_check_schema(struct pmhc_store *s);

/* A unit status to record; borrowed from the decoded message. */
struct pmhc_unit_row {
	const Pmhc__V1__UnitStatus *status;
};

/* What one transaction writes. */
struct pmhc_store_batch {
	const struct pmhc_call_row *calls;
	size_t n_calls;
	const struct pmhc_disposition_row *dispositions;
	size_t n_dispositions;
	const struct pmhc_rejected_row *rejected;
	size_t n_rejected;
	const struct pmhc_unit_row *units;
	size_t n_units;
	/*
	 * History: its rows are most likely not stored yet, so all of them are
	 * COPYed straight into the tables first. Live, only the calls marked
	 * unseen are; the rest meet stored rows whenever a call is revised, and a
	 * COPY failing that often would cost more than it saves, and log an ERROR
	 * in the server's log each time.
	 */
	bool likely_new;
};

/*
 * Writes the batch in one transaction. 0 on commit; -1 when nothing was
 * written: either the connection was lost, memory ran out, or the server
 * refused for a reason that is not the rows' (a deadlock, a timeout, a
 * cancel, a full disk, a read-only primary: the connection is reset,
 * pmhc_store_connection_lost() is true, and the whole batch is to be tried
 * again), or PostgreSQL refused a row for its data: SQLSTATE class 22 or 23,
 * 54000, or P0001 from a trigger's check (pmhc_store_last_error() says why; a
 * batch of more than one event is logged).
 */
int pmhc_store_write_batch(struct pmhc_store *s, const struct pmhc_store_batch *b, struct pmhc_store_result *res);

/*
 * Backfill (migration 014): every connection of this store sets pmhc.deferred,
 * so that its writes leave the hourly summary and the repeat flags of
 * pmhc.calls to pmhc_store_finish_backfill; without it each connection says
 * off. Call before the first write.
 */
void pmhc_store_defer_derived(struct pmhc_store *s);

/* What a final pass recomputed. */
struct pmhc_backfill_pass {
	long long subjects;      /* subjects whose repeat flags were recomputed */
	long long calls_changed; /* calls whose flag changed */
	long long hours;         /* rows of the hourly summary written */
};

/*
 * Gives r the repeat rules of pmhc.definitions (threshold and window, per
 * PSAP and the default), so that backfill writes a first guess at each flag.
 * 0, or -1 when the database did not answer (the flags are then guessed not
 * set, and the final pass sets them).
 */
int pmhc_store_repeat_rules(struct pmhc_store *s, struct pmhc_repeats *r);

/*
 * The final pass of a backfill: pmhc.finish_backfill() brings the derived
 * values of every deferred write current, this run's and any earlier killed
 * run's. Cancelled when *stop is set. 0 with *out filled; -1 with the reason
 * in pmhc_store_last_error() and pmhc_store_last_sqlstate(), or the
 * connection lost.
 */
int pmhc_store_finish_backfill(struct pmhc_store *s, const volatile sig_atomic_t *stop, struct pmhc_backfill_pass *out);

/* Whether the last write failed because the server is unreachable (retry later). */
bool pmhc_store_connection_lost(const struct pmhc_store *s);

/* PostgreSQL's words for the last statement it refused (the connection still good). */
const char *pmhc_store_last_error(const struct pmhc_store *s);

/*
 * The last write's refusal: its SQLSTATE ("" when the write did not get that
 * far, such as a connection refused) and the statement's name: a prepared
 * statement's, or the head of its SQL text (never a parameter or a row).
 */
const char *pmhc_store_last_sqlstate(const struct pmhc_store *s);
void pmhc_store_last_statement(const struct pmhc_store *s, char *buf, size_t len);

/*
 * Whether a SQLSTATE says pmhcd's statements do not fit the server, which no
 * row causes and which a retry does not clear: the schema or its privileges
 * changed under pmhcd (class 42: 42501 insufficient_privilege, 42P01
 * undefined_table, 42703 undefined_column, 42883 undefined_function ...), its
 * schema or database is gone (3F000, 3D000), its role may no longer log in
 * (class 28), or the server lacks a feature (0A000). Such a stall is escalated.
 */
bool pmhc_store_error_persistent(const char *sqlstate);

#endif
