/* One Check suite per module; test_main.c runs them all. */
#ifndef PMHC_TEST_SUITES_H
#define PMHC_TEST_SUITES_H

#include <check.h>

Suite *suite_screen(void);
Suite *suite_flowchart(void);
Suite *suite_rules(void);
Suite *suite_wire(void);
Suite *suite_arena(void);
Suite *suite_config(void);
Suite *suite_rules_load(void);
Suite *suite_units(void);
Suite *suite_revcache(void);
Suite *suite_pick(void);
Suite *suite_pgtext(void);

#endif
