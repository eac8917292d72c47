#include <string.h>

#include "landed.h"
#include "suites.h"

static const char me[] = "host/1/100", other[] = "host/2/200";

static struct pmhc_landed_want want(void)
{
	return (struct pmhc_landed_want){ .key = "P1/C-1",
					  .key_len = 6,
					  .val = "rec-v1",
					  .val_len = 6,
					  .instance = me,
					  .instance_len = sizeof me - 1,
					  .partition = 3,
					  .made_ms = 10000,
					  .failed_ms = 20000 };
}

static struct pmhc_landed_seen seen(const char *key, const char *val, const char *instance, int32_t partition,
				    int64_t created_ms)
{
	return (struct pmhc_landed_seen){ .key = key,
					  .key_len = key ? strlen(key) : 0,
					  .val = val,
					  .val_len = val ? strlen(val) : 0,
					  .instance = instance,
					  .instance_len = instance ? strlen(instance) : 0,
					  .partition = partition,
					  .created_ms = created_ms };
}

START_TEST(the_message_itself_is_found)
{
	struct pmhc_landed_want w = want();
	struct pmhc_landed_seen s = seen("P1/C-1", "rec-v1", me, 3, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_FOUND);
	/* Whatever its stamp: the broker's append time, or none. */
	s = seen("P1/C-1", "rec-v1", me, 3, -1);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_FOUND);
}
END_TEST

START_TEST(a_copy_by_another_instance_or_elsewhere_is_not_it)
{
	struct pmhc_landed_want w = want();
	struct pmhc_landed_seen s = seen("P1/C-1", "rec-v1", other, 3, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	s = seen("P1/C-1", "rec-v1", NULL, 3, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	s = seen("P1/C-1", "rec-v1", me, 2, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	s = seen("P1/C-1", "rec-v2", me, 3, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	s = seen("P1/C-10", "rec-v1", me, 3, 10000);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
}
END_TEST

START_TEST(only_a_later_message_of_this_instance_passes_it)
{
	struct pmhc_landed_want w = want();
	/* Made within the margin: a request on the wire at the failure could still land after it. */
	struct pmhc_landed_seen s = seen("P1/C-2", "x", me, 3, 20000 + PMHC_LANDED_MARGIN_MS);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	s = seen("P1/C-2", "x", me, 3, 20001 + PMHC_LANDED_MARGIN_MS);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_PASSED);
	/* Another instance's clock is not this one's: its messages never pass it. */
	s = seen("P1/C-2", "x", other, 3, 99999999);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	/* Nor do this instance's messages on another partition. */
	s = seen("P1/C-2", "x", me, 4, 99999999);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
	/* Nor one stamped by the broker's clock. */
	s = seen("P1/C-2", "x", me, 3, -1);
	ck_assert_int_eq(pmhc_landed_judge(&w, &s), PMHC_LANDED_NOTHING);
}
END_TEST

START_TEST(settled_only_read_to_a_still_end_for_the_settle_time)
{
	const int64_t T = PMHC_LANDED_SETTLE_MS;
	struct pmhc_landed_watch w = { .quiet_since_ms = 0, .high = 50, .high_since_ms = 0, .read_to = 50 };
	ck_assert(!pmhc_landed_settled(&w, T - 1));
	ck_assert(pmhc_landed_settled(&w, T));
	/* A message met, or the end moving, starts the wait again. */
	w.quiet_since_ms = 1000;
	ck_assert(!pmhc_landed_settled(&w, T));
	ck_assert(pmhc_landed_settled(&w, T + 1000));
	w.high_since_ms = 2000;
	ck_assert(!pmhc_landed_settled(&w, T + 1000));
	/* Not read to the end, or no end told by a leader: not settled, however long. */
	w = (struct pmhc_landed_watch){ .quiet_since_ms = 0, .high = 50, .high_since_ms = 0, .read_to = 49 };
	ck_assert(!pmhc_landed_settled(&w, 10 * T));
	w = (struct pmhc_landed_watch){ .quiet_since_ms = 0, .high = -1, .high_since_ms = 0, .read_to = 50 };
	ck_assert(!pmhc_landed_settled(&w, 10 * T));
}
END_TEST

Suite *suite_landed(void)
{
	Suite *s = suite_create("landed");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, the_message_itself_is_found);
	tcase_add_test(tc, a_copy_by_another_instance_or_elsewhere_is_not_it);
	tcase_add_test(tc, only_a_later_message_of_this_instance_passes_it);
	tcase_add_test(tc, settled_only_read_to_a_still_end_for_the_settle_time);
	suite_add_tcase(s, tc);
	return s;
}
