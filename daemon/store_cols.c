/*
 * The column tables of store_cols.h, and the SQL generated from them.
 *
 * Each table is one X-macro: a line a column, X(name, type of its text, how
 * SQL converts it, where it goes, its value). The line both defines the
 * function that makes the value and enters the column in the table, so that
 * adding a column to pmhc.calls is one line here (and its migration).
 */
#include "store_cols.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "enums.h"
#include "flags.h"
#include "rules.h"
#include "store.h"
#include "store_sql.h"

/* ---- how values are made ---- */

static size_t sb_bool(struct pmhc_sbuf *b, bool v)
{
	return pmhc_sb_str(b, v ? "t" : "f");
}

/* Text that is NULL when absent or empty: a location's beat or district. */
static size_t sb_opt(struct pmhc_sbuf *b, const char *v)
{
	return v != NULL && v[0] ? pmhc_sb_str(b, v) : STORE_NO_PARAM;
}

/* A coordinate as text that reads back to the same double; NULL without a position. */
static size_t sb_coord(struct pmhc_sbuf *b, bool has_pos, double v)
{
	return has_pos ? pmhc_sb_fmt(b, "%.17g", v) : STORE_NO_PARAM;
}

/* 0,0 is no position given, not a point in the Gulf of Guinea. */
static bool has_pos(double lat, double lon)
{
	return !(lat == 0 && lon == 0);
}

static size_t sb_flags(struct pmhc_sbuf *b, pmhc_flagset flags)
{
	char *names[PMHC_FLAG_COUNT];
	size_t n = 0;
	for (int f = 0; f < PMHC_FLAG_COUNT; f++)
		if (flags & PMHC_BIT(f))
			names[n++] = (char *)pmhc_flag_name((enum pmhc_flag)f);
	return pmhc_sb_array(b, names, n);
}

/*
 * The function prefix_name that makes a column's value: b is the buffer, row
 * the row (of type row_type), locals what its table's values also use.
 */
/* The column tables read as tables, one column a line: the formatter leaves them be. */
/* clang-format off */
#define PUT(prefix, row_type, locals, name, value)                              \
	static size_t prefix##_##name(struct pmhc_sbuf *b, const void *r)       \
	{                                                                       \
		const row_type *row = r;                                        \
		locals                                                          \
		return value;                                                   \
	}
/* A table's entry for a column X(name, type, as, in, value) whose function is prefix_name. */
#define COL_ENTRY(prefix, name, type, as, in) { #name, type, STORE_AS_##as, in, prefix##_##name },
#define TABLE(var, entries)                                                            \
	static const struct store_col var##_list[] = { entries };                      \
	_Static_assert(sizeof var##_list / sizeof var##_list[0] <= STORE_MAX_COLS,      \
		       #var " has more columns than STORE_MAX_COLS");                   \
	const struct store_cols var = { var##_list, sizeof var##_list / sizeof var##_list[0] }

#define OWN STORE_IN_TABLE
#define DEC STORE_IN_DECISIONS
#define KEY STORE_TABLE_KEY
#define DEC_KEY STORE_DECISIONS_KEY

/* ---- calls: pmhc.calls and pmhc.decisions. b, row, c (the call), loc (its location or NULL) ---- */

#define CALL_COLUMNS(X) \
	X(psap_id,            "text",             TEXT,      OWN | DEC | KEY | DEC_KEY, pmhc_sb_str(b, c->psap_id)) \
	X(call_id,            "text",             TEXT,      OWN | DEC | KEY | DEC_KEY, pmhc_sb_str(b, c->call_id)) \
	X(revision,           "bigint",           TEXT,      OWN | DEC | DEC_KEY, pmhc_sb_fmt(b, "%" PRIu32, c->revision)) \
	X(received_at,        "bigint",           TIMESTAMP, OWN, pmhc_sb_fmt(b, "%" PRId64, c->received_at_ms)) \
	X(source,             "text",             TEXT,      OWN, pmhc_sb_str(b, pmhc_source_name((int)c->source))) \
	X(nature_code,        "text",             TEXT,      OWN, pmhc_sb_str(b, c->nature_code)) \
	X(nature_code_mapped, "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, row->nature_mapped)) \
	X(nature_text,        "text",             TEXT,      OWN, pmhc_sb_str(b, c->nature_text)) \
	X(premise_flags,      "text[]",           TEXT,      OWN, pmhc_sb_array(b, c->premise_flags, c->n_premise_flags)) \
	X(flags,              "text[]",           TEXT,      OWN | DEC, sb_flags(b, row->flags)) \
	X(mental_health_call, "boolean",          TEXT,      OWN | DEC, sb_bool(b, row->mental_health_call)) \
	X(rule_id,            "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, row->rule_id)) \
	X(response,           "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, pmhc_response_name(row->response))) \
	X(dispatch_code,      "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, row->dispatch_code)) \
	X(unit_ids,           "text[]",           TEXT,      OWN | DEC, pmhc_sb_array(b, row->unit_ids, row->n_unit_ids)) \
	X(fallback_used,      "boolean",          TEXT,      OWN | DEC, sb_bool(b, row->fallback_used)) \
	X(rules_version,      "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, row->rules_version)) \
	X(decided_at,         "bigint",           TIMESTAMP, OWN | DEC, pmhc_sb_fmt(b, "%" PRId64, row->decided_at_ms)) \
	X(beat,               "text",             TEXT,      OWN, sb_opt(b, loc ? loc->beat : NULL)) \
	X(district,           "text",             TEXT,      OWN, sb_opt(b, loc ? loc->district : NULL)) \
	X(lat,                "double precision", TEXT,      OWN, sb_coord(b, loc && has_pos(loc->lat, loc->lon), loc ? loc->lat : 0)) \
	X(lon,                "double precision", TEXT,      OWN, sb_coord(b, loc && has_pos(loc->lat, loc->lon), loc ? loc->lon : 0)) \
	X(subject_hash,       "text",             BYTEA,     OWN, row->has_subject_hash ? pmhc_sb_hex(b, row->subject_hash, sizeof row->subject_hash) : STORE_NO_PARAM) \
	X(narrative,          "text",             TEXT,      OWN, row->store_narrative ? pmhc_sb_str(b, c->narrative) : STORE_NO_PARAM) \
	X(backfilled,         "boolean",          TEXT,      OWN | DEC, sb_bool(b, row->backfilled)) \
	X(source_partition,   "integer",          TEXT,      OWN, pmhc_sb_fmt(b, "%" PRId32, row->partition)) \
	X(source_offset,      "bigint",           TEXT,      OWN, pmhc_sb_fmt(b, "%" PRId64, row->offset)) \
	X(answers,            "text",             TEXT,      OWN | DEC, pmhc_sb_str(b, row->answers)) \
	X(call_taker_hash,    "text",             BYTEA,     OWN, row->has_call_taker_hash ? pmhc_sb_hex(b, row->call_taker_hash, sizeof row->call_taker_hash) : STORE_NO_PARAM) \
	X(nature_known,       "boolean",          TEXT,      OWN, sb_bool(b, row->nature_known)) \
	X(reasons,            "text[]",           TEXT,      DEC, pmhc_sb_array(b, row->reasons, row->n_reasons)) \
	X(summary,            "text",             TEXT,      DEC, pmhc_sb_str(b, row->summary ? row->summary : "")) \
	X(repeat_encounter,   "boolean",          TEXT,      STORE_IN_COPY, sb_bool(b, row->repeat_guess))

#define CALL_LOCALS                                                             \
	const Pmhc__V1__CallEvent *c = row->call;                               \
	const Pmhc__V1__Location *loc = c->location;                            \
	(void)loc;
#define CALL_PUT(name, type, as, in, value) PUT(call, struct pmhc_call_row, CALL_LOCALS, name, value)
#define CALL_COL(name, type, as, in, value) COL_ENTRY(call, name, type, as, in)
CALL_COLUMNS(CALL_PUT)
TABLE(store_call_cols, CALL_COLUMNS(CALL_COL));

/* ---- dispositions: pmhc.dispositions. b, row, d (the disposition) ---- */

#define DISPOSITION_COLUMNS(X) \
	X(psap_id,               "text",    TEXT,      OWN | KEY, pmhc_sb_str(b, d->psap_id)) \
	X(call_id,               "text",    TEXT,      OWN | KEY, pmhc_sb_str(b, d->call_id)) \
	X(closed_at,             "bigint",  TIMESTAMP, OWN, pmhc_sb_fmt(b, "%" PRId64, d->closed_at_ms)) \
	X(code,                  "text",    TEXT,      OWN, pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__disposition_code__descriptor, (int)d->code))) \
	X(unit_ids,              "text[]",  TEXT,      OWN, pmhc_sb_array(b, d->unit_ids, d->n_unit_ids)) \
	X(arrest,                "boolean", TEXT,      OWN, sb_bool(b, d->arrest)) \
	X(use_of_force,          "boolean", TEXT,      OWN, sb_bool(b, d->use_of_force)) \
	X(connected_to_services, "boolean", TEXT,      OWN, sb_bool(b, d->connected_to_services)) \
	X(service_unavailable,   "boolean", TEXT,      OWN, sb_bool(b, d->service_unavailable)) \
	X(service_name,          "text",    TEXT,      OWN, pmhc_sb_str(b, d->service_name)) \
	X(backfilled,            "boolean", TEXT,      OWN, sb_bool(b, row->backfilled)) \
	X(source_partition,      "integer", TEXT,      OWN, pmhc_sb_fmt(b, "%" PRId32, row->partition)) \
	X(source_offset,         "bigint",  TEXT,      OWN, pmhc_sb_fmt(b, "%" PRId64, row->offset))

#define DISPOSITION_LOCALS const Pmhc__V1__Disposition *d = row->disp; (void)d;
#define DISPOSITION_PUT(name, type, as, in, value) \
	PUT(disposition, struct pmhc_disposition_row, DISPOSITION_LOCALS, name, value)
#define DISPOSITION_COL(name, type, as, in, value) COL_ENTRY(disposition, name, type, as, in)
DISPOSITION_COLUMNS(DISPOSITION_PUT)
TABLE(store_disposition_cols, DISPOSITION_COLUMNS(DISPOSITION_COL));

/* ---- unit statuses: pmhc.unit_status. b, u (the status) ---- */

#define UNIT_COLUMNS(X) \
	X(psap_id,  "text",             TEXT,      OWN, pmhc_sb_str(b, u->psap_id)) \
	X(unit_id,  "text",             TEXT,      OWN, pmhc_sb_str(b, u->unit_id)) \
	X(at,       "bigint",           TIMESTAMP, OWN, pmhc_sb_fmt(b, "%" PRId64, u->at_ms)) \
	X(kind,     "text",             TEXT,      OWN, pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, (int)u->kind))) \
	X(state,    "text",             TEXT,      OWN, pmhc_sb_str(b, pmhc_enum_name(&pmhc__v1__unit_state__descriptor, (int)u->state))) \
	X(beat,     "text",             TEXT,      OWN, sb_opt(b, u->beat)) \
	X(district, "text",             TEXT,      OWN, sb_opt(b, u->district)) \
	X(lat,      "double precision", TEXT,      OWN, sb_coord(b, has_pos(u->lat, u->lon), u->lat)) \
	X(lon,      "double precision", TEXT,      OWN, sb_coord(b, has_pos(u->lat, u->lon), u->lon))

#define UNIT_LOCALS const Pmhc__V1__UnitStatus *u = row->status;
#define UNIT_PUT(name, type, as, in, value) PUT(unit, struct pmhc_unit_row, UNIT_LOCALS, name, value)
#define UNIT_COL(name, type, as, in, value) COL_ENTRY(unit, name, type, as, in)
UNIT_COLUMNS(UNIT_PUT)
TABLE(store_unit_cols, UNIT_COLUMNS(UNIT_COL));

/* ---- rejected input: pmhc.rejected_events. b, row ---- */

#define REJECTED_COLUMNS(X) \
	X(source_topic,     "text",    TEXT,  OWN, pmhc_sb_str(b, row->topic)) \
	X(source_partition, "integer", TEXT,  OWN, pmhc_sb_fmt(b, "%" PRId32, row->partition)) \
	X(source_offset,    "bigint",  TEXT,  OWN, pmhc_sb_fmt(b, "%" PRId64, row->offset)) \
	X(reason,           "text",    TEXT,  OWN, pmhc_sb_str(b, row->reason)) \
	X(size_bytes,       "integer", TEXT,  OWN, pmhc_sb_fmt(b, "%zu", row->size)) \
	X(payload_sha256,   "text",    BYTEA, OWN, pmhc_sb_hex(b, row->payload_sha256, sizeof row->payload_sha256))

#define REJECTED_PUT(name, type, as, in, value) PUT(rejected, struct pmhc_rejected_row, , name, value)
#define REJECTED_COL(name, type, as, in, value) COL_ENTRY(rejected, name, type, as, in)
REJECTED_COLUMNS(REJECTED_PUT)
TABLE(store_rejected_cols, REJECTED_COLUMNS(REJECTED_COL));
/* clang-format on */

#undef OWN
#undef DEC
#undef KEY
#undef DEC_KEY

size_t store_count_cols(const struct store_cols *t, unsigned in)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += (t->col[i].in & in) != 0;
	return n;
}

size_t store_put_row(struct pmhc_sbuf *b, const struct store_cols *t, unsigned in, const void *row,
		     size_t off[STORE_MAX_COLS], const struct store_col *which[STORE_MAX_COLS])
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!(t->col[i].in & in))
			continue;
		off[k] = t->col[i].put(b, row);
		if (which != NULL)
			which[k] = &t->col[i];
		k++;
	}
	return k;
}

/* ---- the SQL made from the tables ---- */

/* Text appended in a fixed buffer; cut when it did not fit. */
struct text {
	char *p;
	size_t cap, len;
	bool cut;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = t->cut ? 0 : vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->cut = true;
	else
		t->len += (size_t)n;
}

/* ref (a staged column, or a parameter) converted as the column's as says. */
static void converted(struct text *t, enum store_as as, const char *ref)
{
	switch (as) {
	case STORE_AS_TEXT: add(t, "%s", ref); break;
	case STORE_AS_TIMESTAMP: add(t, SQL_AS_TIMESTAMP, ref); break;
	case STORE_AS_BYTEA: add(t, SQL_AS_BYTEA, ref); break;
	}
}

/* What a list says of each column. */
enum form {
	NAMES,   /* psap_id */
	DEFS,    /* psap_id text: a staging table's columns */
	VALUES,  /* pg_catalog.to_timestamp((received_at)::pg_catalog.float8 / ...): converted */
	PARAMS,  /* the same of $3::bigint: the parameter converted */
	UPDATES, /* rule_id = EXCLUDED.rule_id, for the columns outside the key */
};

/* Room for one column list: the longest, the calls' updates, is about 1 kB. */
#define LIST_LEN 2048
/* Room for a parameter and its type: "$32::double precision". */
#define PARAM_LEN 32

struct list {
	char p[LIST_LEN];
};

/* The list of t's columns that have a bit of in (and, for UPDATES, none of key). */
static const char *list(struct list *l, const struct store_cols *t, unsigned in, unsigned key, enum form form,
			bool *cut)
{
	struct text out = { l->p, sizeof l->p, 0, false };
	l->p[0] = '\0';
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct store_col *c = &t->col[i];
		if (!(c->in & in) || (form == UPDATES && (c->in & key)))
			continue;
		add(&out, "%s", k++ > 0 ? ", " : "");
		char param[PARAM_LEN];
		if (c->as == STORE_AS_TIMESTAMP) /* the division wants a number, not an untyped parameter */
			snprintf(param, sizeof param, "$%zu::%s", k, c->type);
		else
			snprintf(param, sizeof param, "$%zu", k);
		switch (form) {
		case NAMES: add(&out, "%s", c->name); break;
		case DEFS: add(&out, "%s %s", c->name, c->type); break;
		case VALUES: converted(&out, c->as, c->name); break;
		case PARAMS: converted(&out, c->as, param); break;
		case UPDATES: add(&out, "%s = EXCLUDED.%s", c->name, c->name); break;
		}
	}
	*cut |= out.cut;
	return l->p;
}

/* One statement from its template; false if it did not fit. */
__attribute__((format(printf, 2, 3))) static bool statement(char dst[STORE_SQL_LEN], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, STORE_SQL_LEN, fmt, ap);
	va_end(ap);
	return n >= 0 && n < STORE_SQL_LEN;
}

static bool build_calls(struct store_statements *q)
{
	const struct store_cols *t = &store_call_cols;
	struct list l[8];
	bool cut = false;
	const char *calls = list(&l[0], t, STORE_IN_TABLE, 0, NAMES, &cut);
	const char *decisions = list(&l[1], t, STORE_IN_DECISIONS, 0, NAMES, &cut);
	bool ok = statement(q->stage_calls, SQL_STAGE_CALLS, list(&l[2], t, STORE_STAGED, 0, DEFS, &cut)) &&
		  statement(q->copy_calls, SQL_COPY_CALLS,
			    list(&l[7], t, STORE_IN_TABLE | STORE_IN_COPY, 0, NAMES, &cut)) &&
		  statement(q->copy_decisions, SQL_COPY_DECISIONS, decisions) &&
		  statement(q->move_calls, SQL_MOVE_CALLS, calls, list(&l[3], t, STORE_IN_TABLE, 0, VALUES, &cut),
			    list(&l[4], t, STORE_IN_TABLE, STORE_TABLE_KEY, UPDATES, &cut), decisions,
			    list(&l[5], t, STORE_IN_DECISIONS, 0, VALUES, &cut),
			    list(&l[6], t, STORE_IN_DECISIONS, STORE_DECISIONS_KEY, UPDATES, &cut));
	return ok && !cut;
}

static bool build_dispositions(struct store_statements *q)
{
	const struct store_cols *t = &store_disposition_cols;
	struct list l[4];
	bool cut = false;
	const char *names = list(&l[0], t, STORE_IN_TABLE, 0, NAMES, &cut);
	bool ok =
		statement(q->stage_dispositions, SQL_STAGE_DISPOSITIONS, list(&l[1], t, STORE_STAGED, 0, DEFS, &cut)) &&
		statement(q->copy_dispositions, SQL_COPY_DISPOSITIONS, names) &&
		statement(q->move_dispositions, SQL_MOVE_DISPOSITIONS, names,
			  list(&l[2], t, STORE_IN_TABLE, 0, VALUES, &cut),
			  list(&l[3], t, STORE_IN_TABLE, STORE_TABLE_KEY, UPDATES, &cut));
	return ok && !cut;
}

static bool build_inserts(struct store_statements *q)
{
	struct list l[4];
	bool cut = false;
	const struct store_cols *u = &store_unit_cols, *r = &store_rejected_cols;
	bool ok =
		statement(q->insert_unit_status, SQL_INSERT_UNIT_STATUS, list(&l[0], u, STORE_IN_TABLE, 0, NAMES, &cut),
			  list(&l[1], u, STORE_IN_TABLE, 0, PARAMS, &cut)) &&
		statement(q->insert_rejected, SQL_INSERT_REJECTED, list(&l[2], r, STORE_IN_TABLE, 0, NAMES, &cut),
			  list(&l[3], r, STORE_IN_TABLE, 0, PARAMS, &cut));
	return ok && !cut;
}

static struct store_statements statements;
static bool statements_ok;

static void build(void)
{
	statements_ok = build_calls(&statements) && build_dispositions(&statements) && build_inserts(&statements);
}

const struct store_statements *store_statements(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, build);
	return statements_ok ? &statements : NULL;
}
