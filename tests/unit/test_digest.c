#include <string.h>

#include "digest.h"
#include "suites.h"

START_TEST(sha256_hex_of_the_standard_vectors)
{
	char hex[PMHC_SHA256_HEX_LEN + 1];

	/* FIPS 180-2, appendix B.1, and the empty message. */
	ck_assert_int_eq(pmhc_sha256_hex("abc", 3, hex), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(pmhc_sha256_hex("", 0, hex), 0);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(sha256_raw_matches_hex)
{
	unsigned char md[PMHC_SHA256_LEN];

	ck_assert_int_eq(pmhc_sha256("abc", 3, md), 0);
	ck_assert_uint_eq(md[0], 0xba);
	ck_assert_uint_eq(md[31], 0xad);
}
END_TEST

Suite *suite_digest(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sha256_hex_of_the_standard_vectors);
	tcase_add_test(tc, sha256_raw_matches_hex);
	suite_add_tcase(s, tc);
	return s;
}
