#include <stddef.h>

#include "suites.h"

Suite *(*const pmhc_test_suites[])(void) = {
	suite_config, suite_errlist,         suite_log,     suite_rules_load, suite_store_sql,
	suite_draw,   suite_transport_check, suite_observe, suite_kafka,      NULL,
};
