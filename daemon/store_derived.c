/*
 * The derived values of pmhc.calls (the hourly summary and the repeat flags,
 * migration 009): kept current by triggers after every live write, left by a
 * backfill's writes to one pass at its end (migration 014). Per batch of
 * history that upkeep recomputed nearly every frequent subject's whole
 * history again; once, set-based, it is a fraction of the load.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "log.h"
#include "repeats.h"
#include "store_int.h"
#include "store_sql.h"

/* How often a pass in progress looks at the stop flag: a stop is a cancel within this. */
#define PASS_POLL_MS 100
/* Room for PQcancel's own error text. */
#define CANCEL_ERR_LEN 256

void pmhc_store_defer_derived(struct pmhc_store *s)
{
	s->deferred = true;
}

bool store_apply_deferral(struct pmhc_store *s)
{
	PGresult *r = store_exec_result(s, s->deferred ? SQL_DEFER_DERIVED_ON : SQL_DEFER_DERIVED_OFF, PGRES_TUPLES_OK);
	PQclear(r);
	return r != NULL;
}

/* Asks the server to cancel the statement in progress; what comes back is its error. */
static void cancel(PGconn *c)
{
	char err[CANCEL_ERR_LEN];
	PGcancel *k = PQgetCancel(c);
	if (k == NULL || !PQcancel(k, err, sizeof err))
		pmhc_warn("msg=\"could not cancel the final pass; waiting for it\" error=\"%s\"",
			  k == NULL ? "out of memory" : err);
	PQfreeCancel(k);
}

/*
 * The result of the statement sent, waited for on the socket so that a stop
 * cancels it: a pass over millions of calls takes minutes, and a stop takes
 * at most limits.shutdown_timeout. NULL when the connection failed.
 */
static PGresult *await_result(PGconn *c, const volatile sig_atomic_t *stop)
{
	bool cancelled = false;
	while (PQisBusy(c)) {
		if (stop != NULL && *stop && !cancelled) {
			cancel(c);
			cancelled = true;
		}
		struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
		if ((poll(&pfd, 1, PASS_POLL_MS) < 0 && errno != EINTR) || !PQconsumeInput(c))
			return NULL;
	}
	PGresult *last = NULL, *r;
	while ((r = PQgetResult(c)) != NULL) {
		PQclear(last);
		last = r;
	}
	return last;
}

int pmhc_store_repeat_rules(struct pmhc_store *s, struct pmhc_repeats *r)
{
	if (store_ensure_ready(s) != 0)
		return -1;
	PGresult *res = store_exec_result(s, SQL_REPEAT_RULES, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1) && !PQgetisnull(res, i, 2) &&
		    !pmhc_repeats_rule(r, PQgetvalue(res, i, 0), atoi(PQgetvalue(res, i, 1)),
				       atoi(PQgetvalue(res, i, 2))))
			pmhc_warn("msg=\"repeat rule not used for the first guess\" psap=\"%s\"",
				  pmhc_q(PQgetvalue(res, i, 0)));
	PQclear(res);
	return 0;
}

int pmhc_store_finish_backfill(struct pmhc_store *s, const volatile sig_atomic_t *stop, struct pmhc_backfill_pass *out)
{
	s->last_error[0] = '\0';
	s->last_sqlstate[0] = '\0';
	if (store_ensure_ready(s) != 0)
		return -1;
	s->statement = SQL_FINISH_BACKFILL;
	PGresult *r = PQsendQuery(s->conn, SQL_FINISH_BACKFILL) ? await_result(s->conn, stop) : NULL;
	if (r == NULL) {
		store_lose_connection(s, store_pq_error(s->conn));
		return -1;
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		store_note_failure(s, r);
		PQclear(r);
		if (PQstatus(s->conn) != CONNECTION_OK)
			store_lose_connection(s, s->last_error);
		return -1;
	}
	out->subjects = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	out->calls_changed = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	out->hours = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	return 0;
}
