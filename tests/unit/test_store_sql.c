/*
 * The SQL the store makes from its column tables (daemon/store_cols.c), read
 * without a server: every list of columns lines up with the lists it goes
 * with (the same names, in the same order, as many values as columns), the
 * statements keep the text they had when written by hand, and a call row
 * gives one value for each column.
 */
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_cols.h"
#include "suites.h"

#define MAX_ITEMS 64
#define ITEM_LEN 128

struct items {
	size_t n;
	char v[MAX_ITEMS][ITEM_LEN];
};

/* The text between the first open in sql (after from, if given) and the close after it. */
static void between(const char *sql, const char *from, const char *open, const char *close, char *out, size_t cap)
{
	const char *p = from ? strstr(sql, from) : sql;
	ck_assert_msg(p != NULL, "no \"%s\" in %s", from, sql);
	p = strstr(p, open);
	ck_assert_msg(p != NULL, "no \"%s\" in %s", open, sql);
	p += strlen(open);
	const char *e = strstr(p, close);
	ck_assert_msg(e != NULL, "no \"%s\" after \"%s\" in %s", close, open, sql);
	ck_assert_uint_lt((size_t)(e - p), cap);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

/* A list split at its commas outside parentheses and quotes. */
static void split(const char *list, struct items *it)
{
	it->n = 0;
	int depth = 0;
	bool quoted = false;
	size_t len = 0;
	for (const char *p = list;; p++) {
		if (*p == '\0' || (*p == ',' && depth == 0 && !quoted)) {
			ck_assert_uint_lt(it->n, MAX_ITEMS);
			char *v = it->v[it->n++];
			v[len] = '\0';
			len = 0;
			if (*p == '\0')
				break;
			while (p[1] == ' ')
				p++;
			continue;
		}
		quoted ^= *p == '\'';
		depth += !quoted && *p == '(';
		depth -= !quoted && *p == ')';
		ck_assert_uint_lt(len, ITEM_LEN - 1);
		it->v[it->n][len++] = *p;
	}
}

static void items_of(const char *sql, const char *from, const char *open, const char *close, struct items *it)
{
	char text[STORE_SQL_LEN];
	between(sql, from, open, close, text, sizeof text);
	split(text, it);
}

/* Whether item names the identifier name (alone, or inside a conversion). */
static bool mentions(const char *item, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(item, name); p; p = strstr(p + 1, name)) {
		bool start = p == item || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z'));
		bool end = !(p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z'));
		if (start && end)
			return true;
	}
	return false;
}

/* The names of t's columns that have a bit of in, in order. */
static void names_of(const struct store_cols *t, unsigned in, struct items *it)
{
	it->n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->col[i].in & in)
			snprintf(it->v[it->n++], ITEM_LEN, "%s", t->col[i].name);
}

static void assert_same(const struct items *a, const struct items *b, const char *what)
{
	ck_assert_msg(a->n == b->n, "%s: %zu against %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		ck_assert_msg(strcmp(a->v[i], b->v[i]) == 0, "%s, item %zu: %s against %s", what, i, a->v[i], b->v[i]);
}

/*
 * One INSERT ... SELECT of a merge: its columns are those of the table with
 * bit in, the i-th value is made from the i-th column, and the update sets
 * every column outside the conflict key, each to its own EXCLUDED value.
 */
static void check_merge(const char *sql, const char *insert, const char *select, const char *from,
			const char *update_end, const struct store_cols *t, unsigned in)
{
	struct items cols, want, values, key, sets;
	items_of(sql, NULL, insert, ")", &cols);
	names_of(t, in, &want);
	assert_same(&cols, &want, insert);
	items_of(sql, insert, select, from, &values);
	ck_assert_msg(values.n == cols.n, "%s: %zu values for %zu columns", insert, values.n, cols.n);
	for (size_t i = 0; i < cols.n; i++)
		ck_assert_msg(mentions(values.v[i], cols.v[i]), "%s: value %zu is %s, column %s", insert, i,
			      values.v[i], cols.v[i]);
	items_of(sql, insert, "ON CONFLICT (", ")", &key);
	items_of(sql, insert, "DO UPDATE SET ", update_end, &sets);
	size_t k = 0;
	for (size_t i = 0; i < cols.n; i++) {
		bool in_key = false;
		for (size_t j = 0; j < key.n; j++)
			in_key |= strcmp(key.v[j], cols.v[i]) == 0;
		if (in_key)
			continue;
		char set[2 * ITEM_LEN + 16];
		snprintf(set, sizeof set, "%s = EXCLUDED.%s", cols.v[i], cols.v[i]);
		ck_assert_msg(k < sets.n && strcmp(sets.v[k], set) == 0, "%s: update %zu is %s, want %s", insert, k,
			      k < sets.n ? sets.v[k] : "(none)", set);
		k++;
	}
	ck_assert_msg(k == sets.n, "%s: %zu updates for %zu columns outside the key", insert, sets.n, k);
	/* The key the table says is the key the statement says. */
	unsigned key_bit = in == STORE_IN_DECISIONS ? STORE_DECISIONS_KEY : STORE_TABLE_KEY;
	names_of(t, key_bit, &want);
	assert_same(&key, &want, "ON CONFLICT");
}

START_TEST(test_statements_fit)
{
	ck_assert_ptr_nonnull(store_statements());
}
END_TEST

START_TEST(test_calls_merge_lines_up)
{
	const char *sql = store_statements()->move_calls;
	check_merge(sql, "INSERT INTO pmhc.calls AS t (", "SELECT ", " FROM latest", "   WHERE", &store_call_cols,
		    STORE_IN_TABLE);
	check_merge(sql, "INSERT INTO pmhc.decisions AS d (", "DISTINCT ON (psap_id, call_id, revision) ",
		    " FROM fresh", "   WHERE", &store_call_cols, STORE_IN_DECISIONS);
}
END_TEST

START_TEST(test_dispositions_merge_lines_up)
{
	check_merge(store_statements()->move_dispositions, "INSERT INTO pmhc.dispositions AS t (",
		    "DISTINCT ON (psap_id, call_id) ", "   FROM", ", stored_at", &store_disposition_cols,
		    STORE_IN_TABLE);
}
END_TEST

/*
 * The direct COPY names the columns the merge names: both write the same rows.
 * History's COPY adds its first guess at the repeat flag, last, which a merge
 * leaves to the triggers.
 */
START_TEST(test_copy_lists_match_merges)
{
	const struct store_statements *q = store_statements();
	struct items copy, merge;
	items_of(q->copy_calls, NULL, "(", ")", &copy);
	ck_assert_uint_gt(copy.n, 0);
	ck_assert_str_eq(copy.v[copy.n - 1], "repeat_encounter");
	copy.n--;
	items_of(q->move_calls, NULL, "INSERT INTO pmhc.calls AS t (", ")", &merge);
	assert_same(&copy, &merge, "pmhc.calls");
	items_of(q->copy_decisions, NULL, "(", ")", &copy);
	items_of(q->move_calls, NULL, "INSERT INTO pmhc.decisions AS d (", ")", &merge);
	assert_same(&copy, &merge, "pmhc.decisions");
	items_of(q->copy_dispositions, NULL, "(", ")", &copy);
	items_of(q->move_dispositions, NULL, "INSERT INTO pmhc.dispositions AS t (", ")", &merge);
	assert_same(&copy, &merge, "pmhc.dispositions");
}
END_TEST

/*
 * A staging table has every column of its rows, in the table's order, which is
 * the COPY's; the COPY-only ones come last and are not staged.
 */
static void check_stage(const char *sql, const struct store_cols *t)
{
	struct items defs;
	items_of(sql, NULL, "(", ")", &defs);
	ck_assert_uint_eq(defs.n, store_count_cols(t, STORE_STAGED));
	for (size_t i = 0; i < defs.n; i++) {
		char def[2 * ITEM_LEN];
		snprintf(def, sizeof def, "%s %s", t->col[i].name, t->col[i].type);
		ck_assert_str_eq(defs.v[i], def);
	}
}

START_TEST(test_staging_has_every_column)
{
	check_stage(store_statements()->stage_calls, &store_call_cols);
	check_stage(store_statements()->stage_dispositions, &store_disposition_cols);
	ck_assert_uint_eq(store_call_cols.n, 33);
	ck_assert_uint_eq(store_count_cols(&store_call_cols, STORE_STAGED), 32);
	ck_assert_uint_eq(store_count_cols(&store_call_cols, STORE_IN_TABLE), 30);
	ck_assert_uint_eq(store_count_cols(&store_call_cols, STORE_IN_DECISIONS), 17);
	ck_assert_uint_eq(store_disposition_cols.n, 13);
}
END_TEST

/*
 * The statements kept the text they had when written by hand, with every
 * function qualified: nothing a user creates elsewhere is resolved in its place.
 */
START_TEST(test_inserts_as_written_by_hand)
{
	const struct store_statements *q = store_statements();
	ck_assert_str_eq(
		q->insert_unit_status,
		"INSERT INTO pmhc.unit_status (psap_id, unit_id, at, kind, state, beat, district, lat, lon)"
		" VALUES ($1, $2, pg_catalog.to_timestamp(($3::bigint)::pg_catalog.float8 / 1000::pg_catalog.float8), $4, $5, $6, $7,"
		" $8, $9)"
		" ON CONFLICT DO NOTHING");
	ck_assert_str_eq(q->insert_rejected,
			 "INSERT INTO pmhc.rejected_events (source_topic, source_partition, source_offset, reason,"
			 " size_bytes, payload_sha256) VALUES ($1, $2, $3, $4, $5, pg_catalog.decode($6, 'hex'))"
			 " ON CONFLICT DO NOTHING");
	ck_assert_uint_eq(store_count_cols(&store_unit_cols, STORE_IN_TABLE), 9);
	ck_assert_uint_eq(store_count_cols(&store_rejected_cols, STORE_IN_TABLE), 6);
}
END_TEST

static const char *value(const struct pmhc_sbuf *b, const size_t *off, const struct store_col *const *col, size_t n,
			 const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(col[k]->name, name) == 0)
			return off[k] == STORE_NO_PARAM ? NULL : b->p + off[k];
	ck_abort_msg("no column %s", name);
	return NULL;
}

/* A call row gives one value a column, in the tables' order; absent ones are NULL. */
START_TEST(test_call_row_values)
{
	Pmhc__V1__CallEvent call = PMHC__V1__CALL_EVENT__INIT;
	call.psap_id = "P1";
	call.call_id = "C1";
	call.revision = 3;
	call.received_at_ms = 1763870400000;
	call.nature_code = "MNTL";
	char *reasons[] = { "a", "b\"c" };
	struct pmhc_call_row row = { .call = &call,
				     .nature_mapped = "MNTL",
				     .rule_id = "R1",
				     .dispatch_code = "D",
				     .rules_version = "v",
				     .decided_at_ms = 1763870401000,
				     .reasons = reasons,
				     .n_reasons = 2,
				     .backfilled = true,
				     .partition = 2,
				     .offset = 42 };
	call.screening = &(Pmhc__V1__Screening)PMHC__V1__SCREENING__INIT;
	call.screening->weapon_involved = PMHC__V1__ANSWER__ANSWER_NO;
	call.screening->attempt_in_progress = PMHC__V1__ANSWER__ANSWER_YES;
	pmhc_answers_text(&call, row.answers);
	struct pmhc_sbuf b = { 0 };
	size_t off[STORE_MAX_COLS];
	const struct store_col *col[STORE_MAX_COLS];
	size_t n = store_put_row(&b, &store_call_cols, STORE_STAGED, &row, off, col);
	ck_assert(!b.oom);
	ck_assert_uint_eq(n, 32);
	ck_assert_str_eq(value(&b, off, col, n, "answers"), "???N???????Y");
	ck_assert_str_eq(value(&b, off, col, n, "nature_known"), "f");
	for (size_t k = 0; k < n; k++)
		ck_assert_ptr_eq(col[k], &store_call_cols.col[k]);
	ck_assert_str_eq(value(&b, off, col, n, "revision"), "3");
	ck_assert_str_eq(value(&b, off, col, n, "received_at"), "1763870400000");
	ck_assert_str_eq(value(&b, off, col, n, "decided_at"), "1763870401000");
	ck_assert_str_eq(value(&b, off, col, n, "backfilled"), "t");
	ck_assert_str_eq(value(&b, off, col, n, "fallback_used"), "f");
	ck_assert_str_eq(value(&b, off, col, n, "source_offset"), "42");
	ck_assert_str_eq(value(&b, off, col, n, "reasons"), "{\"a\",\"b\\\"c\"}");
	ck_assert_str_eq(value(&b, off, col, n, "summary"), "");
	const char *absent[] = { "beat", "district", "lat", "lon", "subject_hash", "narrative", "call_taker_hash" };
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		ck_assert_msg(value(&b, off, col, n, absent[i]) == NULL, "%s is not NULL", absent[i]);

	/* History's direct COPY: the table's columns and the guess at the repeat flag. */
	b.len = 0;
	row.repeat_guess = true;
	n = store_put_row(&b, &store_call_cols, STORE_IN_TABLE | STORE_IN_COPY, &row, off, col);
	ck_assert_uint_eq(n, 31);
	ck_assert_str_eq(value(&b, off, col, n, "repeat_encounter"), "t");
	b.len = 0;
	n = store_put_row(&b, &store_call_cols, STORE_IN_TABLE, &row, off, col);
	ck_assert_uint_eq(n, 30);
	for (size_t k = 0; k < n; k++)
		ck_assert_str_ne(col[k]->name, "repeat_encounter");

	b.len = 0;
	n = store_put_row(&b, &store_call_cols, STORE_IN_DECISIONS, &row, off, col);
	ck_assert_uint_eq(n, 17);
	ck_assert_str_eq(value(&b, off, col, n, "answers"), "???N???????Y");
	ck_assert_str_eq(value(&b, off, col, n, "rule_id"), "R1");
	pmhc_sbuf_free(&b);
}
END_TEST

Suite *suite_store_sql(void)
{
	Suite *s = suite_create("store_sql");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_statements_fit);
	tcase_add_test(tc, test_calls_merge_lines_up);
	tcase_add_test(tc, test_dispositions_merge_lines_up);
	tcase_add_test(tc, test_copy_lists_match_merges);
	tcase_add_test(tc, test_staging_has_every_column);
	tcase_add_test(tc, test_inserts_as_written_by_hand);
	tcase_add_test(tc, test_call_row_values);
	suite_add_tcase(s, tc);
	return s;
}
