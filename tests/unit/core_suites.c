#include <stddef.h>

#include "suites.h"

Suite *(*const pmhc_test_suites[])(void) = {
	suite_screen,   suite_flowchart, suite_rules,  suite_wire,    suite_arena,  suite_units,
	suite_revcache, suite_pick,      suite_pgtext, suite_digest,  suite_enums,  suite_properties,
	suite_caps,     suite_chart,     suite_stats,  suite_repeats, suite_landed, NULL,
};
