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
 * tables through staging tables whose columns are the rows' values, made from
 * the same column tables (store_cols.c), by statements that apply the
 * replacement rules.
 * History is most likely new to the tables: pick.c decides in memory, by the
 * same rules, which of its rows reach them, and those are COPYed straight into
 * pmhc.calls, pmhc.decisions and pmhc.dispositions. So is a live call this
 * process meets for the first time; a live batch's other calls (revisions of
 * calls already decided) are merged in the same transaction. The merge costs
 * the server about a third more than a COPY, and on the live path that CPU
 * is shared with the broker and pmhcd (docs/benchmarks.md). A unique violation
 * means the rows meet stored ones after all (a re-read, a resumed run, a
 * replay after a restart or a rebalance, another daemon): that part is rolled
 * back to its savepoint and all of it merged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "store_int.h"
#include "store_sql.h"
#include "subject.h"

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

/*
 * The longest value converted for COPY: a subject hash as bytea, \x and 64 hex
 * digits; a timestamp ("2025-11-23 04:00:00.000+00") is shorter.
 */
#define CONV_LEN (2 * PMHC_SUBJECT_HASH_LEN + 16)

/* What copy_rows() copies: some rows (all when pick is NULL), each made into columns. */
struct copy_job {
	const char *sql;
	const void *rows;
	size_t row_size;
	const size_t *pick;
	size_t n;
	const struct store_cols *cols;
	unsigned in; /* which of the columns: STORE_IN_TABLE (| STORE_IN_COPY), STORE_IN_DECISIONS or STORE_STAGED */
	/*
	 * Into staging every value goes as the text the staging tables take; into
	 * the real tables converted to what the column's input function reads.
	 */
	bool staging;
};

/*
 * One row's COPY text into s->line. False when a value could not be converted
 * (the COPY is then ended and the batch merged, which converts in SQL) or
 * memory ran out (s->oom).
 */
static bool format_line(struct pmhc_store *s, const struct copy_job *j, const void *row)
{
	size_t off[STORE_MAX_COLS];
	const struct store_col *col[STORE_MAX_COLS];
	char conv[CONV_LEN];
	s->scratch.len = 0;
	size_t n = store_put_row(&s->scratch, j->cols, j->in, row, off, col);
	if (s->scratch.oom) {
		s->oom = true; /* the offsets point nowhere: send nothing of this row */
		return false;
	}
	struct pmhc_sbuf *line = &s->line;
	line->len = 0;
	bool ok = true;
	for (size_t k = 0; k < n && ok; k++) {
		const char *v = off[k] == STORE_NO_PARAM ? NULL : s->scratch.p + off[k];
		if (v != NULL && !j->staging && col[k]->as != STORE_AS_TEXT) {
			/* Unconvertible, the COPY fails and the batch is merged, which converts in SQL. */
			ok = col[k]->as == STORE_AS_BYTEA ? pmhc_pg_bytea(v, conv, sizeof conv)
							  : pmhc_pg_timestamp(v, conv, sizeof conv);
			v = conv;
		}
		pmhc_copy_field(line, v, k == 0);
	}
	pmhc_sb_put(line, "\n", 1);
	if (line->oom || s->scratch.oom)
		s->oom = true;
	return ok && !s->oom;
}

static bool copy_rows(struct pmhc_store *s, const struct copy_job *j)
{
	PGconn *c = s->conn;
	PGresult *r = store_exec_result(s, j->sql, PGRES_COPY_IN);
	if (r == NULL)
		return false;
	PQclear(r);
	bool ok = true;
	for (size_t i = 0; i < j->n && ok; i++) {
		size_t row = j->pick ? j->pick[i] : i;
		ok = format_line(s, j, (const char *)j->rows + row * j->row_size) &&
		     PQputCopyData(c, s->line.p, (int)s->line.len) == 1;
	}
	s->line.oom = s->scratch.oom = false;
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

/*
 * A part of a batch that goes by COPY, calls (with their decisions) or
 * dispositions: its columns, how pick.c sees a row, and its staging table
 * and merge.
 */
struct part {
	const struct store_cols *cols;
	size_t row_size;
	struct pmhc_pick_item (*item)(const void *row);
	const char *copy_stage, *merge, *truncate_stage, *delete_stage;
};

static struct pmhc_pick_item call_item(const void *row)
{
	const struct pmhc_call_row *r = row;
	return (struct pmhc_pick_item){ r->call->psap_id, r->call->call_id, r->call->revision,
					r->partition,     r->offset,        0,
					r->unseen };
}

static struct pmhc_pick_item disposition_item(const void *row)
{
	const struct pmhc_disposition_row *r = row;
	return (struct pmhc_pick_item){ r->disp->psap_id, r->disp->call_id, r->disp->closed_at_ms,
					r->partition,     r->offset,        0 };
}

static const struct part calls_part = {
	&store_call_cols,         sizeof(struct pmhc_call_row), call_item, SQL_COPY_STAGE_CALLS, SQL_STMT_MOVE_CALLS,
	SQL_TRUNCATE_STAGE_CALLS, SQL_DELETE_STAGE_CALLS,
};

static const struct part dispositions_part = {
	&store_disposition_cols,       sizeof(struct pmhc_disposition_row), disposition_item,
	SQL_COPY_STAGE_DISPOSITIONS,   SQL_STMT_MOVE_DISPOSITIONS,          SQL_TRUNCATE_STAGE_DISPOSITIONS,
	SQL_DELETE_STAGE_DISPOSITIONS,
};

/* Room for pick.c's work on n rows, kept between batches. */
static bool pick_room(struct pmhc_store *s, size_t n)
{
	if (n <= s->pick_cap)
		return true;
	struct pmhc_pick_item *items = realloc(s->pick_items, n * sizeof *items);
	if (items != NULL)
		s->pick_items = items;
	size_t **lists[] = { &s->pick_keep, &s->pick_decide, &s->pick_merge };
	bool ok = items != NULL;
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		size_t *l = realloc(*lists[i], n * sizeof *l);
		if (l != NULL)
			*lists[i] = l;
		ok = ok && l != NULL;
	}
	bool *unseen = realloc(s->pick_unseen, n * sizeof *unseen);
	if (unseen != NULL)
		s->pick_unseen = unseen;
	if (!ok || unseen == NULL) {
		s->oom = true;
		return false;
	}
	s->pick_cap = n;
	return true;
}

/* pick.c's items for the part's n rows; false when memory ran out. */
static bool pick_items(struct pmhc_store *s, const struct part *p, const void *rows, size_t n)
{
	if (!pick_room(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		s->pick_items[i] = p->item((const char *)rows + i * p->row_size);
		s->pick_items[i].row = i;
	}
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
	if (strcmp(s->last_sqlstate, "23505") == 0) /* unique_violation */
		pmhc_debug("msg=\"batch meets stored rows; merged, not copied\" reason=\"%s\"", s->last_error);
	else if (s->unformatted)
		pmhc_debug("msg=\"a value COPY's text cannot carry; merging, which converts in SQL\"");
	else if (store_rows_at_fault(s->last_sqlstate))
		pmhc_debug("msg=\"COPY refused a row; merging to see whether the merge takes it\" sqlstate=%s "
			   "reason=\"%s\"",
			   s->last_sqlstate, s->last_error);
	else
		pmhc_warn("msg=\"COPY failed; batch merged instead\" sqlstate=%s reason=\"%s\"",
			  s->last_sqlstate[0] ? s->last_sqlstate : "-", s->last_error);
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	s->unformatted = false;
	*merged = true;
}

enum direct { DIRECT_COPIED, DIRECT_MERGE, DIRECT_FAILED };

/* How a part of a batch went in, for the debug log: split is some rows each way. */
enum path { PATH_NONE, PATH_COPY, PATH_MERGE, PATH_SPLIT };

/*
 * Tries rows straight into the tables under a savepoint. When they do not go
 * in, the savepoint is rolled back and the caller merges instead (*merged
 * set, the reason logged), unless the connection is gone, memory ran out or
 * the server is in trouble (the SQLSTATE kept for the caller).
 */
static enum direct copy_direct(struct pmhc_store *s, const struct copy_job *jobs, size_t n_jobs, bool *merged)
{
	*merged = false;
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
	if (PQstatus(s->conn) != CONNECTION_OK || s->oom || (!s->unformatted && store_server_trouble(s->last_sqlstate)))
		return DIRECT_FAILED;
	merging(s, merged);
	return DIRECT_MERGE;
}

/* One of the merges prepared with the staging tables; its result, or NULL with last_error set. */
static PGresult *exec_prepared(struct pmhc_store *s, const char *name)
{
	s->statement = name;
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
static bool clear_stage(struct pmhc_store *s, const struct part *p, size_t rows)
{
	bool truncate = rows >= STAGE_TRUNCATE_ROWS || ++s->stage_merges % STAGE_TRUNCATE_EVERY == 0;
	return store_exec(s, truncate ? p->truncate_stage : p->delete_stage);
}

/* Stages n of the part's rows (all when pick is NULL) and merges them: the merge's result, or NULL with last_error set. */
static PGresult *merge(struct pmhc_store *s, const struct part *p, const void *rows, const size_t *pick, size_t n)
{
	const struct copy_job stage = { p->copy_stage, rows, p->row_size, pick, n, p->cols, STORE_STAGED, true };
	PGresult *r;
	if (!copy_rows(s, &stage) || (r = exec_prepared(s, p->merge)) == NULL)
		return NULL;
	if (!clear_stage(s, p, n)) {
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Keeps, in order, the rows of list[] whose call is unseen[row]; the new length. */
static size_t unseen_only(size_t *list, size_t n, const bool *unseen)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (unseen[list[i]])
			list[k++] = list[i];
	return k;
}

/*
 * A live batch: the calls this process meets for the first time go straight
 * into the tables, as history does; the others (revisions of calls it has
 * decided before) are merged. *n_keep and *n_decide are cut to the first
 * kind; s->pick_merge lists the rows of the second, *n_merge long.
 */
static void split_unseen(struct pmhc_store *s, size_t n, size_t *n_keep, size_t *n_decide, size_t *n_merge)
{
	pmhc_pick_unseen(s->pick_items, n, s->pick_unseen);
	*n_keep = unseen_only(s->pick_keep, *n_keep, s->pick_unseen);
	*n_decide = unseen_only(s->pick_decide, *n_decide, s->pick_unseen);
	*n_merge = 0;
	for (size_t row = 0; row < n; row++)
		if (!s->pick_unseen[row])
			s->pick_merge[(*n_merge)++] = row;
}

/* *applied: the decisions written (a new revision each); the other calls were stale. */
static bool copy_calls(struct pmhc_store *s, const struct pmhc_store_batch *b, size_t *applied, enum path *path)
{
	*path = PATH_NONE;
	*applied = 0;
	if (b->n_calls == 0)
		return true;
	if (!pick_items(s, &calls_part, b->calls, b->n_calls))
		return false;
	size_t n_keep, n_decide, n_merge = 0;
	pmhc_pick_revisions(s->pick_items, b->n_calls, s->pick_keep, &n_keep, s->pick_decide, &n_decide);
	if (!b->likely_new)
		split_unseen(s, b->n_calls, &n_keep, &n_decide, &n_merge);
	const size_t *to_merge = s->pick_merge;
	if (n_keep > 0) {
		bool merged; /* the reason is logged; every row is merged below */
		const struct copy_job direct[] = {
			{ s->sql->copy_calls, b->calls, sizeof *b->calls, s->pick_keep, n_keep, &store_call_cols,
			  STORE_IN_TABLE | STORE_IN_COPY, false },
			{ s->sql->copy_decisions, b->calls, sizeof *b->calls, s->pick_decide, n_decide,
			  &store_call_cols, STORE_IN_DECISIONS, false },
		};
		enum direct d = copy_direct(s, direct, 2, &merged);
		if (d == DIRECT_FAILED)
			return false;
		if (d == DIRECT_COPIED) {
			*applied = n_decide;
			*path = PATH_COPY;
		} else {
			to_merge = NULL; /* some were stored after all: the merge takes every row */
			n_merge = b->n_calls;
		}
	}
	if (n_merge == 0)
		return true;
	*path = *path == PATH_COPY ? PATH_SPLIT : PATH_MERGE;
	PGresult *r = merge(s, &calls_part, b->calls, to_merge, n_merge);
	if (r == NULL)
		return false;
	*applied += (size_t)strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	return true;
}

static bool copy_dispositions(struct pmhc_store *s, const struct pmhc_store_batch *b, enum path *path)
{
	*path = PATH_NONE;
	if (b->n_dispositions == 0)
		return true;
	if (!pick_items(s, &dispositions_part, b->dispositions, b->n_dispositions))
		return false;
	size_t n_keep;
	pmhc_pick_latest(s->pick_items, b->n_dispositions, s->pick_keep, &n_keep);
	const struct copy_job direct = { s->sql->copy_dispositions,
					 b->dispositions,
					 sizeof *b->dispositions,
					 s->pick_keep,
					 n_keep,
					 &store_disposition_cols,
					 STORE_IN_TABLE,
					 false };
	/* Live dispositions are merged at once (likely_new, store.h). */
	bool merged = true;
	enum direct d = b->likely_new ? copy_direct(s, &direct, 1, &merged) : DIRECT_MERGE;
	*path = merged ? PATH_MERGE : PATH_COPY;
	if (d != DIRECT_MERGE)
		return d == DIRECT_COPIED;
	PGresult *r = merge(s, &dispositions_part, b->dispositions, NULL, b->n_dispositions);
	PQclear(r);
	return r != NULL;
}

/* The merges are planned once per connection, not once per batch. */
static bool prepare(struct pmhc_store *s, const char *name, const char *sql)
{
	s->statement = name;
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
	if (!store_exec(s, s->sql->stage_calls) || !store_exec(s, s->sql->stage_dispositions) ||
	    !prepare(s, SQL_STMT_MOVE_CALLS, s->sql->move_calls) ||
	    !prepare(s, SQL_STMT_MOVE_DISPOSITIONS, s->sql->move_dispositions))
		return false;
	/* The planner's JIT costs more than it saves here; a server without it has nothing to turn off. */
	PQclear(PQexec(s->conn, SQL_JIT_OFF));
	s->staged = true;
	return true;
}

/* Where a batch's time goes, for whoever tunes a backfill (log level debug). */
struct batch_times {
	double calls_ms, disp_ms, rest_ms, commit_ms;
	enum path calls_path, disp_path;
};

static const char *path_name(enum path p)
{
	static const char *const names[] = { "none", "copy", "merge", "split" };
	return names[p];
}

static void log_written(const struct pmhc_store_batch *b, const struct batch_times *t)
{
	pmhc_debug("msg=\"batch written\" calls=%zu calls_path=%s calls_ms=%.1f dispositions=%zu "
		   "dispositions_path=%s dispositions_ms=%.1f rest_ms=%.1f commit_ms=%.1f",
		   b->n_calls, path_name(t->calls_path), t->calls_ms, b->n_dispositions, path_name(t->disp_path),
		   t->disp_ms, t->rest_ms, t->commit_ms);
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
	if (!copy_calls(s, b, &res->applied, &t.calls_path))
		return rolled_back(s, b);
	res->stale = b->n_calls - res->applied;
	t.calls_ms = pmhc_lap_ms(&lap);
	if (!copy_dispositions(s, b, &t.disp_path))
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

int store_probe(struct pmhc_store *s)
{
	if (PQstatus(s->conn) != CONNECTION_OK || !stage_once(s) || !store_exec(s, SQL_BEGIN))
		return -1;
	/* The staging tables are empty between batches: the merges move nothing, but are planned and run. */
	PGresult *calls = exec_prepared(s, SQL_STMT_MOVE_CALLS);
	PGresult *dispositions = calls != NULL ? exec_prepared(s, SQL_STMT_MOVE_DISPOSITIONS) : NULL;
	bool ok = calls != NULL && dispositions != NULL;
	PQclear(calls);
	PQclear(dispositions);
	PQclear(PQexec(s->conn, SQL_ROLLBACK));
	return ok ? 0 : -1;
}
