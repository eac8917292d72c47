#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(pmhc_test_suites[0]());
	for (size_t i = 1; pmhc_test_suites[i] != NULL; i++)
		srunner_add_suite(sr, pmhc_test_suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
