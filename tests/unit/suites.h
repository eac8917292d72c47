/* One Check suite per module; each runner lists the suites it links. */
#ifndef PMHC_TEST_SUITES_H
#define PMHC_TEST_SUITES_H

#include <check.h>

/* Suites of the pure core (libpmhc): their runner links libpmhc alone. */
Suite *suite_screen(void);
Suite *suite_flowchart(void);
Suite *suite_rules(void);
Suite *suite_wire(void);
Suite *suite_arena(void);
Suite *suite_units(void);
Suite *suite_revcache(void);
Suite *suite_repeats(void);
Suite *suite_pick(void);
Suite *suite_pgtext(void);
Suite *suite_digest(void);
Suite *suite_enums(void);
Suite *suite_properties(void);
Suite *suite_caps(void);
Suite *suite_chart(void);
Suite *suite_stats(void);
Suite *suite_landed(void);

/* Suites of the daemon's edges that need no server: config, rules loading, the store's SQL. */
Suite *suite_config(void);
Suite *suite_errlist(void);
Suite *suite_log(void);
Suite *suite_rules_load(void);
Suite *suite_store_sql(void);
Suite *suite_draw(void);
Suite *suite_transport_check(void);
Suite *suite_observe(void);
Suite *suite_kafka(void);

/* The runner's suites, NULL-terminated; each runner's *_suites.c defines it. */
extern Suite *(*const pmhc_test_suites[])(void);

#endif
