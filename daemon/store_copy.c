/*
 * The COPY path: calls, decisions and dispositions, straight into the tables
 * when a batch is history, otherwise into staging tables and merged from
 * there, with the unit statuses and rejections (store_stmt.c) in the same
 * transaction.
 *
 * Calls and dispositions, live or backfill, go in by COPY: per row, a
 * statement of its own costs PostgreSQL several times the CPU (each execution
 * starts an executor and re-reads every CHECK constraint), and on a shared
 * machine that CPU is taken from the live path. They are merged into the
 * tables through staging tables whose columns are the rows' parameters, made
 * by the same row_params(), by statements that apply the replacement rules.
 * History is most likely new to the tables: pick.c decides in memory, by the
 * same rules, which of its rows reach them, and those are COPYed straight into
 * pmhc.calls, pmhc.decisions and pmhc.dispositions. A unique violation means
 * the batch meets stored rows after all (a re-read, a resumed run, a live
 * daemon): that part is rolled back to its savepoint and merged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "enums.h"
#include "log.h"
#include "rules.h"
#include "store_int.h"
#include "store_sql.h"

/*
 * The staging tables keep their rows past COMMIT: ON COMMIT DELETE ROWS
 * truncated both at every commit, about a tenth of the server's CPU per
 * stored call on the live path (perf). Each merge deletes what it staged
 * instead, in its own transaction; a TRUNCATE now and then, and after any
 * large batch, gives back the pages that deleted rows leave behind, which
 * every merge would otherwise scan.
 */
#define STAGE_TRUNCATE_EVERY 64
#define STAGE_TRUNCATE_ROWS 2000

#define CALL_NPARAMS 29
#define DISPOSITION_NPARAMS 13
/* The longest value converted for COPY: a subject hash as bytea, \x and 64 hex digits. */
#define CONV_LEN (2 * PMHC_SUBJECT_HASH_LEN + 16)

/* ---- scratch text for one row's parameters ---- */

static size_t sb_flags(struct pmhc_sbuf *b, pmhc_flagset flags)
{
	char *names[PMHC_FLAG_COUNT];
	size_t n = 0;
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (flags & PMHC_BIT(f))
			names[n++] = (char *)pmhc_flag_name((enum pmhc_flag)f);
	return pmhc_sb_array(b, names, n);
}

/* Fills off[] with the offsets of the row's 29 parameters in the scratch buffer. */
static void row_params(struct pmhc_sbuf *b, const struct pmhc_call_row *row, size_t off[CALL_NPARAMS])
{
	const Pmhc__V1__CallEvent *c = row->call;
	const Pmhc__V1__Location *loc = c->location;
	bool has_pos = loc != NULL && !(loc->lat == 0 && loc->lon == 0);

	off[0] = pmhc_sb_str(b, c->psap_id);
	off[1] = pmhc_sb_str(b, c->call_id);
	off[2] = pmhc_sb_fmt(b, "%" PRIu32, c->revision);
	off[3] = pmhc_sb_fmt(b, "%" PRId64, c->received_at_ms);
	off[4] = pmhc_sb_str(b, pmhc_source_name((int)c->source));
	off[5] = pmhc_sb_str(b, c->nature_code);
	off[6] = pmhc_sb_str(b, row->nature_mapped);
	off[7] = pmhc_sb_str(b, c->nature_text);
	off[8] = pmhc_sb_array(b, c->premise_flags, c->n_premise_flags);
	off[9] = sb_flags(b, row->flags);
	off[10] = pmhc_sb_str(b, row->mental_health_call ? "t" : "f");
	off[11] = pmhc_sb_str(b, row->rule_id);
	off[12] = pmhc_sb_str(b, pmhc_response_name(row->response));
	off[13] = pmhc_sb_str(b, row->dispatch_code);
	off[14] = pmhc_sb_array(b, row->unit_ids, row->n_unit_ids);
	off[15] = pmhc_sb_str(b, row->fallback_used ? "t" : "f");
	off[16] = pmhc_sb_str(b, row->rules_version);
	off[17] = pmhc_sb_fmt(b, "%" PRId64, row->decided_at_ms);
	off[18] = loc && loc->beat[0] ? pmhc_sb_str(b, loc->beat) : STORE_NO_PARAM;
	off[19] = loc && loc->district[0] ? pmhc_sb_str(b, loc->district) : STORE_NO_PARAM;
	off[20] = has_pos ? pmhc_sb_fmt(b, "%.17g", loc->lat) : STORE_NO_PARAM;
	off[21] = has_pos ? pmhc_sb_fmt(b, "%.17g", loc->lon) : STORE_NO_PARAM;
	off[22] = row->has_subject_hash ? pmhc_sb_hex(b, row->subject_hash, sizeof row->subject_hash) : STORE_NO_PARAM;
	off[23] = row->store_narrative ? pmhc_sb_str(b, c->narrative) : STORE_NO_PARAM;
	off[24] = pmhc_sb_str(b, row->backfilled ? "t" : "f");
	off[25] = pmhc_sb_fmt(b, "%" PRId32, row->partition);
	off[26] = pmhc_sb_fmt(b, "%" PRId64, row->offset);
	off[27] = pmhc_sb_array(b, row->reasons, row->n_reasons);
	off[28] = pmhc_sb_str(b, row->summary ? row->summary : "");
}

static void disposition_params(struct pmhc_sbuf *b, const struct pmhc_disposition_row *row,
			       size_t off[DISPOSITION_NPARAMS])
{
	const Pmhc__V1__Disposition *d = row->disp;
	off[0] = pmhc_sb_str(b, d->psap_id);
	off[1] = pmhc_sb_str(b, d->call_id);
	off[2] = pmhc_sb_fmt(b, "%" PRId64, d->closed_at_ms);
	off[3] = pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__disposition_code__descriptor, (int)d->code));
	off[4] = pmhc_sb_array(b, d->unit_ids, d->n_unit_ids);
	off[5] = pmhc_sb_str(b, d->arrest ? "t" : "f");
	off[6] = pmhc_sb_str(b, d->use_of_force ? "t" : "f");
	off[7] = pmhc_sb_str(b, d->connected_to_services ? "t" : "f");
	off[8] = pmhc_sb_str(b, d->service_unavailable ? "t" : "f");
	off[9] = pmhc_sb_str(b, d->service_name);
	off[10] = pmhc_sb_str(b, row->backfilled ? "t" : "f");
	off[11] = pmhc_sb_fmt(b, "%" PRId32, row->partition);
	off[12] = pmhc_sb_fmt(b, "%" PRId64, row->offset);
}

/*
 * How a COPY column is made from a row's parameters: as the text the staging
 * tables take, or converted to what the real column's input function reads.
 */
enum copy_as { AS_TEXT, AS_TIMESTAMP, AS_BYTEA };
struct copy_col {
	unsigned char param;	/* index into the row's parameters */
	unsigned char as;	/* enum copy_as */
};

/* CALLS_COLUMNS from row_params()' first 27 parameters. */
static const struct copy_col calls_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TEXT }, { 3, AS_TIMESTAMP }, { 4, AS_TEXT }, { 5, AS_TEXT },
	{ 6, AS_TEXT }, { 7, AS_TEXT }, { 8, AS_TEXT }, { 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT },
	{ 12, AS_TEXT }, { 13, AS_TEXT }, { 14, AS_TEXT }, { 15, AS_TEXT }, { 16, AS_TEXT },
	{ 17, AS_TIMESTAMP }, { 18, AS_TEXT }, { 19, AS_TEXT }, { 20, AS_TEXT }, { 21, AS_TEXT },
	{ 22, AS_BYTEA }, { 23, AS_TEXT }, { 24, AS_TEXT }, { 25, AS_TEXT }, { 26, AS_TEXT },
};

/* DECISIONS_COLUMNS from row_params(), as SQL_MOVE_CALLS's decisions take them. */
static const struct copy_col decisions_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TEXT }, { 17, AS_TIMESTAMP }, { 16, AS_TEXT }, { 6, AS_TEXT },
	{ 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT }, { 12, AS_TEXT }, { 13, AS_TEXT }, { 14, AS_TEXT },
	{ 15, AS_TEXT }, { 27, AS_TEXT }, { 28, AS_TEXT }, { 24, AS_TEXT },
};

/* DISPOSITIONS_COLUMNS from disposition_params(). */
static const struct copy_col dispositions_cols[] = {
	{ 0, AS_TEXT }, { 1, AS_TEXT }, { 2, AS_TIMESTAMP }, { 3, AS_TEXT }, { 4, AS_TEXT }, { 5, AS_TEXT },
	{ 6, AS_TEXT }, { 7, AS_TEXT }, { 8, AS_TEXT }, { 9, AS_TEXT }, { 10, AS_TEXT }, { 11, AS_TEXT },
	{ 12, AS_TEXT },
};

#define STAGE_COLS(n) (n), NULL	/* staging: every parameter as text, in order */
#define COLS(map) (sizeof(map) / sizeof((map)[0])), (map)

typedef void (*row_formatter)(struct pmhc_sbuf *b, const void *row, size_t *off);

static void call_formatter(struct pmhc_sbuf *b, const void *row, size_t *off)
{
	row_params(b, row, off);
}

static void disposition_formatter(struct pmhc_sbuf *b, const void *row, size_t *off)
{
	disposition_params(b, row, off);
}

/* What copy_rows() copies: some rows (all when pick is NULL), each made into columns. */
struct copy_job {
	const char *sql;
	const void *rows;
	size_t row_size;
	const size_t *pick;
	size_t n;
	row_formatter format;
	size_t ncols;
	const struct copy_col *cols;	/* NULL: the parameters in order, as text */
};

static bool copy_rows(struct pmhc_store *s, const struct copy_job *j)
{
	PGconn *c = s->conn;
	PGresult *r = store_exec_result(s, j->sql, PGRES_COPY_IN);
	if (r == NULL)
		return false;
	PQclear(r);
	struct pmhc_sbuf *line = &s->line;
	size_t off[CALL_NPARAMS];
	char conv[CONV_LEN];
	bool ok = true;
	for (size_t i = 0; i < j->n && ok; i++) {
		size_t row = j->pick ? j->pick[i] : i;
		s->scratch.len = 0;
		j->format(&s->scratch, (const char *)j->rows + row * j->row_size, off);
		if (s->scratch.oom) {
			s->oom = true;	/* the offsets point nowhere: send nothing of this row */
			ok = false;
			break;
		}
		line->len = 0;
		for (size_t k = 0; k < j->ncols && ok; k++) {
			size_t o = off[j->cols ? j->cols[k].param : k];
			const char *v = o == STORE_NO_PARAM ? NULL : s->scratch.p + o;
			if (v != NULL && j->cols && j->cols[k].as != AS_TEXT) {
				/* Unconvertible, the COPY fails and the batch is merged, which converts in SQL. */
				ok = j->cols[k].as == AS_BYTEA ? pmhc_pg_bytea(v, conv, sizeof conv)
							       : pmhc_pg_timestamp(v, conv, sizeof conv);
				v = conv;
			}
			pmhc_copy_field(line, v, k == 0);
		}
		pmhc_sb_put(line, "\n", 1);
		if (line->oom || s->scratch.oom)
			s->oom = true;
		ok = ok && !s->oom && PQputCopyData(c, line->p, (int)line->len) == 1;
	}
	line->oom = s->scratch.oom = false;
	s->unformatted = !ok && !s->oom;
	if (PQputCopyEnd(c, ok ? NULL : "pmhcd could not format a row") != 1)
		return false;
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			store_note_failure(s, r);
			ok = false;
		}
		PQclear(r);
	}
	return ok;
}

/* Room for pick.c's work on n rows, kept between batches. */
static bool pick_room(struct pmhc_store *s, size_t n)
{
	if (n <= s->pick_cap)
		return true;
	struct pmhc_pick_item *items = realloc(s->pick_items, n * sizeof *items);
	if (items != NULL)
		s->pick_items = items;
	size_t *keep = realloc(s->pick_keep, n * sizeof *keep);
	if (keep != NULL)
		s->pick_keep = keep;
	size_t *decide = realloc(s->pick_decide, n * sizeof *decide);
	if (decide != NULL)
		s->pick_decide = decide;
	if (items == NULL || keep == NULL || decide == NULL) {
		s->oom = true;
		return false;
	}
	s->pick_cap = n;
	return true;
}

/*
 * The direct COPY met stored rows: the merge decides. A row PostgreSQL refuses
 * for its data, or one pmhcd could not put in COPY's text, is tried by the
 * merge too (it converts in SQL, not here) and is refused there again if it
 * truly is bad. Anything else (a bug of ours) is merged as well, and said
 * plainly, since every batch like it takes the slow path.
 */
static void merging(struct pmhc_store *s, bool *merged)
{
	store_one_line(s->last_error);
	if (strcmp(s->last_sqlstate, "23505") == 0)	/* unique_violation */
		pmhc_debug("msg=\"batch meets stored rows; merged, not copied\" reason=\"%s\"", s->last_error);
	else if (s->unformatted)
		pmhc_debug("msg=\"a value COPY's text cannot carry; merging, which converts in SQL\"");
	else if (store_rows_at_fault(s->last_sqlstate))
		pmhc_debug("msg=\"COPY refused a row; merging to see whether the merge takes it\" sqlstate=%s "
			   "reason=\"%s\"", s->last_sqlstate, s->last_error);
	else
		pmhc_warn("msg=\"COPY failed; batch merged instead\" sqlstate=%s reason=\"%s\"",
			  s->last_sqlstate[0] ? s->last_sqlstate : "-", s->last_error);
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->unformatted = false;
	*merged = true;
}

enum direct { DIRECT_COPIED, DIRECT_MERGE, DIRECT_FAILED };

/*
 * Tries the batch's part straight into the tables under a savepoint. When it
 * does not go in, the savepoint is rolled back and the caller merges instead
 * (*merged set, the reason logged), unless the connection is gone, memory
 * ran out or the server is in trouble (the SQLSTATE kept for the caller).
 */
static enum direct copy_direct(struct pmhc_store *s, const struct copy_job *jobs, size_t n_jobs, bool *merged)
{
	s->last_sqlstate[0] = '\0';
	s->unformatted = false;
	if (store_exec(s, SQL_SAVEPOINT)) {
		bool ok = true;
		for (size_t i = 0; i < n_jobs && ok; i++)
			ok = copy_rows(s, &jobs[i]);
		if (ok && store_exec(s, SQL_RELEASE_SAVEPOINT))
			return DIRECT_COPIED;
		if (!ok && PQstatus(s->conn) == CONNECTION_OK)
			store_exec(s, SQL_ROLLBACK_SAVEPOINT);
	}
	if (PQstatus(s->conn) != CONNECTION_OK || s->oom ||
	    (!s->unformatted && store_server_trouble(s->last_sqlstate)))
		return DIRECT_FAILED;
	merging(s, merged);
	return DIRECT_MERGE;
}

/* One of the merges prepared with the staging tables; its result, or NULL with last_error set. */
static PGresult *exec_prepared(struct pmhc_store *s, const char *name)
{
	PGresult *r = PQexecPrepared(s->conn, name, 0, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		store_note_failure(s, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Empties a staging table inside the batch's transaction (see STAGE_TRUNCATE_EVERY). */
static bool clear_stage(struct pmhc_store *s, const char *truncate_sql, const char *delete_sql, size_t rows)
{
	bool truncate = rows >= STAGE_TRUNCATE_ROWS || ++s->stage_merges % STAGE_TRUNCATE_EVERY == 0;
	return store_exec(s, truncate ? truncate_sql : delete_sql);
}

/* *applied: the decisions written (a new revision each); the other calls were stale. */
static bool copy_calls(struct pmhc_store *s, const struct pmhc_store_batch *b, size_t *applied, bool *merged)
{
	*merged = false;
	*applied = 0;
	if (b->n_calls == 0)
		return true;
	if (!pick_room(s, b->n_calls))
		return false;
	for (size_t i = 0; i < b->n_calls; i++) {
		const struct pmhc_call_row *r = &b->calls[i];
		s->pick_items[i] = (struct pmhc_pick_item){ r->call->psap_id, r->call->call_id, r->call->revision,
							    r->partition, r->offset, i };
	}
	size_t n_keep, n_decide;
	pmhc_pick_revisions(s->pick_items, b->n_calls, s->pick_keep, &n_keep, s->pick_decide, &n_decide);
	const struct copy_job direct[] = {
		{ SQL_COPY_CALLS, b->calls, sizeof *b->calls, s->pick_keep, n_keep, call_formatter, COLS(calls_cols) },
		{ SQL_COPY_DECISIONS, b->calls, sizeof *b->calls, s->pick_decide, n_decide, call_formatter,
		  COLS(decisions_cols) },
	};
	enum direct d = b->likely_new ? copy_direct(s, direct, 2, merged) : DIRECT_MERGE;
	*merged = d == DIRECT_MERGE;
	if (d == DIRECT_COPIED)
		*applied = n_decide;
	if (d != DIRECT_MERGE)
		return d == DIRECT_COPIED;
	const struct copy_job stage = { SQL_COPY_STAGE_CALLS, b->calls, sizeof *b->calls, NULL,
					b->n_calls, call_formatter, STAGE_COLS(CALL_NPARAMS) };
	PGresult *r;
	if (!copy_rows(s, &stage) || (r = exec_prepared(s, "pmhc_move_calls")) == NULL)
		return false;
	*applied = (size_t)strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return clear_stage(s, SQL_TRUNCATE_STAGE_CALLS, SQL_DELETE_STAGE_CALLS, b->n_calls);
}

static bool copy_dispositions(struct pmhc_store *s, const struct pmhc_store_batch *b, bool *merged)
{
	*merged = false;
	if (b->n_dispositions == 0)
		return true;
	if (!pick_room(s, b->n_dispositions))
		return false;
	for (size_t i = 0; i < b->n_dispositions; i++) {
		const struct pmhc_disposition_row *r = &b->dispositions[i];
		s->pick_items[i] = (struct pmhc_pick_item){ r->disp->psap_id, r->disp->call_id, r->disp->closed_at_ms,
							    r->partition, r->offset, i };
	}
	size_t n_keep;
	pmhc_pick_latest(s->pick_items, b->n_dispositions, s->pick_keep, &n_keep);
	const struct copy_job direct = { SQL_COPY_DISPOSITIONS, b->dispositions, sizeof *b->dispositions,
					 s->pick_keep, n_keep, disposition_formatter, COLS(dispositions_cols) };
	enum direct d = b->likely_new ? copy_direct(s, &direct, 1, merged) : DIRECT_MERGE;
	*merged = d == DIRECT_MERGE;
	if (d != DIRECT_MERGE)
		return d == DIRECT_COPIED;
	const struct copy_job stage = { SQL_COPY_STAGE_DISPOSITIONS, b->dispositions, sizeof *b->dispositions,
					NULL, b->n_dispositions, disposition_formatter,
					STAGE_COLS(DISPOSITION_NPARAMS) };
	PGresult *r;
	if (!copy_rows(s, &stage) || (r = exec_prepared(s, "pmhc_move_dispositions")) == NULL)
		return false;
	PQclear(r);
	return clear_stage(s, SQL_TRUNCATE_STAGE_DISPOSITIONS, SQL_DELETE_STAGE_DISPOSITIONS, b->n_dispositions);
}

/* The merges are planned once per connection, not once per batch. */
static bool prepare(struct pmhc_store *s, const char *name, const char *sql)
{
	PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		store_note_failure(s, r);
	PQclear(r);
	return ok;
}

/* The staging tables and the merges, once per connection. */
static bool stage_once(struct pmhc_store *s)
{
	if (s->staged)
		return true;
	if (!store_exec(s, SQL_STAGE_CALLS) || !store_exec(s, SQL_STAGE_DISPOSITIONS) ||
	    !prepare(s, "pmhc_move_calls", SQL_MOVE_CALLS) ||
	    !prepare(s, "pmhc_move_dispositions", SQL_MOVE_DISPOSITIONS))
		return false;
	/* The planner's JIT costs more than it saves here; a server without it has nothing to turn off. */
	PQclear(PQexec(s->conn, SQL_JIT_OFF));
	s->staged = true;
	return true;
}

/* Where a batch's time goes, for whoever tunes a backfill (log level debug). */
struct batch_times {
	double calls_ms, disp_ms, rest_ms, commit_ms;
	bool calls_merged, disp_merged;
};

static const char *path_name(size_t n, bool merged)
{
	return n == 0 ? "none" : merged ? "merge" : "copy";
}

static void log_written(const struct pmhc_store_batch *b, const struct batch_times *t)
{
	pmhc_debug("msg=\"batch written\" calls=%zu calls_path=%s calls_ms=%.1f dispositions=%zu "
		   "dispositions_path=%s dispositions_ms=%.1f rest_ms=%.1f commit_ms=%.1f",
		   b->n_calls, path_name(b->n_calls, t->calls_merged), t->calls_ms, b->n_dispositions,
		   path_name(b->n_dispositions, t->disp_merged), t->disp_ms, t->rest_ms, t->commit_ms);
}

/* Before the transaction, or with the connection gone: nothing to roll back. Always -1. */
static int failed(struct pmhc_store *s)
{
	if (PQstatus(s->conn) == CONNECTION_OK && s->last_error[0] != '\0') {
		store_one_line(s->last_error);
		store_server_refused(s);
	} else {
		store_lose_connection(s, s->last_error[0] ? s->last_error : store_pq_error(s->conn));
	}
	return -1;
}

/* A statement of the transaction failed: rolls it back and says whose fault it was. Always -1. */
static int rolled_back(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	PGconn *c = s->conn;
	if (PQstatus(c) == CONNECTION_OK) {
		/* A refused COMMIT has already ended the transaction; a ROLLBACK then only draws a warning. */
		if (PQtransactionStatus(c) != PQTRANS_IDLE)
			PQclear(PQexec(c, SQL_ROLLBACK));
		if (s->oom) {
			/* Not the rows' fault: the whole batch is tried again later. */
			s->oom = false;
			store_lose_connection(s, "out of memory formatting the batch");
			return -1;
		}
		if (PQstatus(c) == CONNECTION_OK)
			return store_refused(s, b);
	}
	return failed(s);
}

enum rest { REST_WRITTEN, REST_REFUSED, REST_LOST };

/* Unit statuses and rejections: few beside the rest, sent as statements. */
static enum rest write_rest(struct pmhc_store *s, const struct pmhc_store_batch *b)
{
	unsigned long generation = s->generation;
	struct pmhc_store_batch rest = *b;
	rest.calls = NULL;
	rest.n_calls = 0;
	rest.dispositions = NULL;
	rest.n_dispositions = 0;
	int rc = store_write_statements(s, &rest);
	if (s->generation != generation || s->conn == NULL) {
		/*
		 * It had to connect again: the transaction above died with the old
		 * connection, and a COMMIT now would claim what was never written.
		 */
		if (s->conn != NULL)
			store_lose_connection(s, "connection to PostgreSQL lost mid-batch");
		return REST_LOST;
	}
	return rc == 0 ? REST_WRITTEN : REST_REFUSED;
}

int store_write_copy(struct pmhc_store *s, const struct pmhc_store_batch *b, struct pmhc_store_result *res)
{
	struct batch_times t = { 0 };
	int64_t lap = pmhc_mono_us();
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->oom = false;
	if (!stage_once(s) || !store_exec(s, SQL_BEGIN))
		return failed(s);
	res->applied = 0;
	if (!copy_calls(s, b, &res->applied, &t.calls_merged))
		return rolled_back(s, b);
	res->stale = b->n_calls - res->applied;
	t.calls_ms = pmhc_lap_ms(&lap);
	if (!copy_dispositions(s, b, &t.disp_merged))
		return rolled_back(s, b);
	t.disp_ms = pmhc_lap_ms(&lap);
	enum rest rest = write_rest(s, b);
	if (rest == REST_LOST)
		return -1;
	if (rest == REST_REFUSED)
		return rolled_back(s, b);
	t.rest_ms = pmhc_lap_ms(&lap);
	/* A deferred constraint is checked here: a refused COMMIT is classified like any statement. */
	if (!store_exec(s, SQL_COMMIT))
		return rolled_back(s, b);
	t.commit_ms = pmhc_lap_ms(&lap);
	log_written(b, &t);
	return 0;
}
