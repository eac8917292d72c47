#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(suite_screen());
	srunner_add_suite(sr, suite_flowchart());
	srunner_add_suite(sr, suite_rules());
	srunner_add_suite(sr, suite_wire());
	srunner_add_suite(sr, suite_arena());
	srunner_add_suite(sr, suite_config());
	srunner_add_suite(sr, suite_rules_load());
	srunner_add_suite(sr, suite_units());
	srunner_add_suite(sr, suite_revcache());
	srunner_add_suite(sr, suite_pick());
	srunner_add_suite(sr, suite_pgtext());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
