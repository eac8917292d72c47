/* SPEC section 8 at the byte level: what is rejected, what is repaired. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "suites.h"
#include "wire.h"

#define NOW 1763870400000LL
#define LIMIT 65536

static Pmhc__V1__CallEvent *decode(const void *buf, size_t len, struct pmhc_wire_report *rep)
{
	return pmhc_wire_call(buf, len, LIMIT, NOW, NULL, rep);
}

/* Packs a fixture call into a malloc'd buffer. */
static uint8_t *pack(const Pmhc__V1__CallEvent *c, size_t *len)
{
	*len = pmhc__v1__call_event__get_packed_size(c);
	uint8_t *buf = malloc(*len ? *len : 1);
	pmhc__v1__call_event__pack(c, buf);
	return buf;
}

START_TEST(test_valid_call_is_ok)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.nature_code = (char *)"EDP";
	f.location.lat = 43.65;
	f.location.lon = -79.38;
	size_t len;
	uint8_t *buf = pack(&f.call, &len);
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(buf, len, &rep);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(rep.status, PMHC_WIRE_OK);
	ck_assert_str_eq(c->call_id, "C-1");
	ck_assert_int_eq(c->received_at_ms, f.call.received_at_ms);
	pmhc__v1__call_event__free_unpacked(c, NULL);
	free(buf);
}
END_TEST

static const struct reject_case {
	const char *name;
	const char *bytes;
	size_t len;
	const char *reason;
} rejects[] = {
	{ "garbage", "\xff\xff\xff\xff", 4, "bytes do not decode as pmhc.v1.CallEvent" },
	{ "truncated length",
	  "\x0a\x05"
	  "ab",
	  4, "bytes do not decode as pmhc.v1.CallEvent" },
	{ "zero bytes: no call_id", "", 0, "call_id is empty" },
	{ "no psap_id",
	  "\x0a\x01"
	  "C",
	  3, "psap_id is empty" },
	{ "NUL in call_id",
	  "\x0a\x03"
	  "A\0B"
	  "\x12\x01"
	  "P",
	  8, "call_id holds a NUL byte" },
	{ "NUL in psap_id",
	  "\x0a\x01"
	  "C"
	  "\x12\x02"
	  "P\0",
	  7, "psap_id holds a NUL byte" },
	{ "Latin-1 call_id",
	  "\x0a\x02"
	  "\xe9t"
	  "\x12\x01"
	  "P",
	  7, "call_id is not valid UTF-8" },
	{ "overlong UTF-8",
	  "\x0a\x02"
	  "\xc0\x80"
	  "\x12\x01"
	  "P",
	  7, "call_id is not valid UTF-8" },
	{ "surrogate in psap_id",
	  "\x0a\x01"
	  "C"
	  "\x12\x03"
	  "\xed\xa0\x80",
	  8, "psap_id is not valid UTF-8" },
};

START_TEST(test_rejects)
{
	const struct reject_case *rc = &rejects[_i];
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(rc->bytes, rc->len, &rep);
	ck_assert_msg(c == NULL, "%s: not rejected", rc->name);
	ck_assert_int_eq(rep.status, PMHC_WIRE_REJECTED);
	ck_assert_str_eq(rep.reason, rc->reason);
}
END_TEST

START_TEST(test_oversize_rejected_before_decoding)
{
	uint8_t big[LIMIT + 1];
	memset(big, 0, sizeof big);
	struct pmhc_wire_report rep;
	ck_assert_ptr_null(decode(big, sizeof big, &rep));
	ck_assert_str_eq(rep.reason, "message is 65537 bytes, over the 65536-byte limit");
}
END_TEST

START_TEST(test_overlong_identifier_rejected)
{
	struct fixture_call f;
	fixture_call_init(&f);
	char id[PMHC_ID_MAX + 2];
	memset(id, 'x', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	f.call.call_id = id;
	size_t len;
	uint8_t *buf = pack(&f.call, &len);
	struct pmhc_wire_report rep;
	ck_assert_ptr_null(decode(buf, len, &rep));
	ck_assert_str_eq(rep.reason, "call_id is 129 bytes, longer than the 128 allowed");
	free(buf);
}
END_TEST

START_TEST(test_unknown_enums_degrade_to_zero)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.call.source = (Pmhc__V1__CallSource)99;
	f.screening.weapon_involved = (Pmhc__V1__Answer)-1;
	size_t len;
	uint8_t *buf = pack(&f.call, &len);
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(buf, len, &rep);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(rep.status, PMHC_WIRE_DEGRADED);
	ck_assert_uint_eq(rep.degraded, PMHC_DEGRADE_ENUM);
	ck_assert_int_eq(c->source, 0);
	ck_assert_int_eq(c->screening->weapon_involved, PMHC__V1__ANSWER__ANSWER_UNKNOWN);
	ck_assert_str_eq(rep.reason, "source has unknown value 99; treated as SOURCE_UNSPECIFIED");
	pmhc__v1__call_event__free_unpacked(c, NULL);
	free(buf);
}
END_TEST

START_TEST(test_absurd_coordinates_and_time_degrade)
{
	struct fixture_call f;
	fixture_call_init(&f);
	f.location.lat = 91.0;
	f.location.lon = 10.0;
	f.call.received_at_ms = NOW + 3LL * 86400000; /* three days in the future */
	size_t len;
	uint8_t *buf = pack(&f.call, &len);
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(buf, len, &rep);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(rep.degraded, PMHC_DEGRADE_COORDS | PMHC_DEGRADE_TIME);
	ck_assert(c->location->lat == 0 && c->location->lon == 0);
	ck_assert_int_eq(c->received_at_ms, NOW);
	pmhc__v1__call_event__free_unpacked(c, NULL);
	free(buf);

	f.location.lat = 0.0 / 0.0; /* NaN */
	f.location.lon = 1;
	f.call.received_at_ms = -5;
	buf = pack(&f.call, &len);
	c = decode(buf, len, &rep);
	ck_assert_uint_eq(rep.degraded, PMHC_DEGRADE_COORDS | PMHC_DEGRADE_TIME);
	pmhc__v1__call_event__free_unpacked(c, NULL);
	free(buf);
}
END_TEST

START_TEST(test_bad_free_text_is_repaired)
{
	/* call_id C, psap_id P, nature_text "a<NUL>b", narrative "x\xffy", premise flags "ok", "\xc3" */
	static const char raw[] = "\x0a\x01"
				  "C"
				  "\x12\x01"
				  "P"
				  "\x3a\x03"
				  "a\0b"
				  "\x62\x03"
				  "x\xffy"
				  "\x5a\x02"
				  "ok"
				  "\x5a\x01"
				  "\xc3";
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(raw, sizeof raw - 1, &rep);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(rep.status, PMHC_WIRE_DEGRADED);
	/* It has no received_at_ms either: the arrival time stands in. */
	ck_assert_uint_eq(rep.degraded, PMHC_DEGRADE_TEXT | PMHC_DEGRADE_TIME);
	ck_assert_str_eq(c->nature_text, "a\xef\xbf\xbd"
					 "b");
	ck_assert_str_eq(c->narrative, "x\xef\xbf\xbdy");
	ck_assert_uint_eq(c->n_premise_flags, 2);
	ck_assert_str_eq(c->premise_flags[0], "ok");
	ck_assert_str_eq(c->premise_flags[1], "\xef\xbf\xbd");
	pmhc__v1__call_event__free_unpacked(c, NULL);
}
END_TEST

START_TEST(test_bad_text_in_nested_location_is_repaired)
{
	/* location { address "\xfe" beat "B1" } */
	static const char raw[] = "\x0a\x01"
				  "C"
				  "\x12\x01"
				  "P"
				  "\x42\x07"
				  "\x0a\x01\xfe"
				  "\x22\x02"
				  "B1";
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *c = decode(raw, sizeof raw - 1, &rep);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->location->address, "\xef\xbf\xbd");
	ck_assert_str_eq(c->location->beat, "B1");
	pmhc__v1__call_event__free_unpacked(c, NULL);
}
END_TEST

START_TEST(test_utf8_validator)
{
	ck_assert(pmhc_utf8_valid((const uint8_t *)"", 0));
	ck_assert(pmhc_utf8_valid((const uint8_t *)"Zoë 🚑", strlen("Zoë 🚑")));
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\xed\xb0\x80", 3));     /* surrogate */
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\xe2\x82", 2));         /* truncated */
	ck_assert(!pmhc_utf8_valid((const uint8_t *)"\x80", 1));             /* lone continuation */
	ck_assert(pmhc_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
}
END_TEST

START_TEST(test_drop_cut_character)
{
	/* snprintf may cut a text in the middle of a character: the tail must go, the rest stay. */
	char a[] = "caf\xc3"; /* é cut after its first byte */
	pmhc_utf8_drop_cut(a);
	ck_assert_str_eq(a, "caf");
	char b[] = "x\xf0\x9f\x9a"; /* 🚑 cut after three of its four bytes */
	pmhc_utf8_drop_cut(b);
	ck_assert_str_eq(b, "x");
	char c[] = "complete \xc3\xa9"; /* whole: untouched */
	pmhc_utf8_drop_cut(c);
	ck_assert_str_eq(c, "complete \xc3\xa9");
	char d[] = "";
	pmhc_utf8_drop_cut(d);
	ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_units_and_dispositions_validated_too)
{
	static const char unit_no_id[] = "\x12\x01"
					 "P";
	struct pmhc_wire_report rep;
	ck_assert_ptr_null(pmhc_wire_decode(&pmhc__v1__unit_status__descriptor, (const uint8_t *)unit_no_id,
					    sizeof unit_no_id - 1, LIMIT, NOW, NULL, &rep));
	ck_assert_str_eq(rep.reason, "unit_id is empty");

	/* A disposition naming a unit with a NUL in its id is refused. */
	static const char disp[] = "\x0a\x01"
				   "C"
				   "\x12\x01"
				   "P"
				   "\x22\x02"
				   "U\0";
	ck_assert_ptr_null(pmhc_wire_decode(&pmhc__v1__disposition__descriptor, (const uint8_t *)disp, sizeof disp - 1,
					    LIMIT, NOW, NULL, &rep));
	ck_assert_str_eq(rep.reason, "unit_ids holds a NUL byte");
}
END_TEST

Suite *suite_wire(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");
	tcase_add_test(tc, test_valid_call_is_ok);
	tcase_add_loop_test(tc, test_rejects, 0, (int)(sizeof rejects / sizeof rejects[0]));
	tcase_add_test(tc, test_oversize_rejected_before_decoding);
	tcase_add_test(tc, test_overlong_identifier_rejected);
	tcase_add_test(tc, test_unknown_enums_degrade_to_zero);
	tcase_add_test(tc, test_absurd_coordinates_and_time_degrade);
	tcase_add_test(tc, test_bad_free_text_is_repaired);
	tcase_add_test(tc, test_bad_text_in_nested_location_is_repaired);
	tcase_add_test(tc, test_utf8_validator);
	tcase_add_test(tc, test_units_and_dispositions_validated_too);
	tcase_add_test(tc, test_drop_cut_character);
	suite_add_tcase(s, tc);
	return s;
}
