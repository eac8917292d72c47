#include "enums.h"
#include "pmhc.pb-c.h"
#include "suites.h"

START_TEST(names_lose_the_shared_prefix)
{
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__response__descriptor, PMHC__V1__RESPONSE__RESPONSE_CIT), "CIT");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__call_source__descriptor, PMHC__V1__CALL_SOURCE__SOURCE_911), "911");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, PMHC__V1__UNIT_KIND__UNIT_CIT_OFFICER),
			 "CIT_OFFICER");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__unit_state__descriptor, PMHC__V1__UNIT_STATE__UNIT_ON_SCENE),
			 "ON_SCENE");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__disposition_code__descriptor,
					PMHC__V1__DISPOSITION_CODE__DISP_TRANSFERRED_988),
			 "TRANSFERRED_988");
}
END_TEST

START_TEST(zero_and_strangers_are_unspecified)
{
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__unit_kind__descriptor, 0), "UNSPECIFIED");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__response__descriptor, 999), "UNSPECIFIED");
	ck_assert_str_eq(pmhc_enum_name(&pmhc__v1__response__descriptor, -1), "UNSPECIFIED");
}
END_TEST

START_TEST(parse_is_the_inverse_and_refuses_zero)
{
	const ProtobufCEnumDescriptor *d = &pmhc__v1__response__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value, back = -1;
		if (v == 0) {
			ck_assert_int_eq(pmhc_enum_parse(d, pmhc_enum_name(d, v), &back), -1);
			continue;
		}
		ck_assert_int_eq(pmhc_enum_parse(d, pmhc_enum_name(d, v), &back), 0);
		ck_assert_int_eq(back, v);
	}
	int out = 0;
	ck_assert_int_eq(pmhc_enum_parse(d, "RESPONSE_CIT", &out), -1);
}
END_TEST

Suite *suite_enums(void)
{
	Suite *s = suite_create("enums");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, names_lose_the_shared_prefix);
	tcase_add_test(tc, zero_and_strangers_are_unspecified);
	tcase_add_test(tc, parse_is_the_inverse_and_refuses_zero);
	suite_add_tcase(s, tc);
	return s;
}
