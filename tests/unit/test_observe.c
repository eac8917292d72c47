/*
 * What an operator sees, without servers: which SQLSTATEs escalate, which
 * http.listen values pass, and the exposition, /healthz and /readyz that
 * metrics.c makes from a loop's view, the writer's latencies and librdkafka's
 * statistics.
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "metrics.h"
#include "store.h"
#include "suites.h"

START_TEST(persistent_sqlstates)
{
	const char *yes[] = { "42501", "42P01", "42703", "42883", "3F000", "3D000", "28P01", "28000", "0A000" };
	const char *no[] = { "",      "22001", "23505", "54000", "P0001", "P0004", "XX000",
			     "40P01", "55P03", "57014", "08006", "53100", "25006", "58030" };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		ck_assert_msg(pmhc_store_error_persistent(yes[i]), "%s should escalate", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert_msg(!pmhc_store_error_persistent(no[i]), "%s should not escalate", no[i]);
}
END_TEST

START_TEST(listen_values)
{
	char why[256];
	const char *good[] = { "127.0.0.1:9464", "[::1]:9464", "localhost:80", "0.0.0.0:65535" };
	const char *bad[] = { "9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "[::1]9464", ":9464", "h:12ab" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ck_assert_msg(pmhc_http_listen_valid(good[i], why, sizeof why), "%s refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why[0] = '\0';
		ck_assert_msg(!pmhc_http_listen_valid(bad[i], why, sizeof why), "%s passed", bad[i]);
		ck_assert_msg(strstr(why, bad[i]) != NULL, "the reason does not name the value: %s", why);
	}
}
END_TEST

static const char stats[] = "{\"brokers\":{\"b:9092/bootstrap\":{\"nodeid\":-1,\"state\":\"UP\"},"
			    "\"b:9092/1\":{\"nodeid\":1,\"state\":\"UP\"}},"
			    "\"topics\":{\"cad.calls\":{\"partitions\":{"
			    "\"0\":{\"fetch_state\":\"active\",\"consumer_lag\":7},"
			    "\"1\":{\"fetch_state\":\"none\",\"consumer_lag\":3},"
			    "\"2\":{\"fetch_state\":\"active\",\"consumer_lag\":-1},"
			    "\"-1\":{\"fetch_state\":\"none\",\"consumer_lag\":9}}}}}";

static void loop_view(struct pmhc_metrics_loop *l)
{
	memset(l, 0, sizeof *l);
	l->calls = 12;
	l->decisions[2] = 5; /* RESPONSE_CIT */
	l->backlog_events = 40;
	l->backlog_bytes = 4096;
	l->oldest_unstored_ms = pmhc_mono_ms() - 2000;
	l->pg_up = l->assigned = true;
	snprintf(l->rules_version, sizeof l->rules_version, "v\"1\\");
}

static void has(const char *text, const char *line)
{
	ck_assert_msg(strstr(text, line) != NULL, "no \"%s\" in:\n%s", line, text);
}

START_TEST(exposition)
{
	struct pmhc_metrics m;
	pmhc_metrics_init(&m, 1000);
	struct pmhc_metrics_loop l;
	loop_view(&l);
	pmhc_metrics_publish(&m, &l);
	pmhc_metrics_observe_write(&m, 0.003);
	pmhc_metrics_observe_write(&m, 0.2);
	pmhc_metrics_observe_write(&m, 20);
	pmhc_metrics_kafka_stats(&m, stats, strlen(stats));
	struct pmhc_sbuf out = { 0 };
	ck_assert(pmhc_metrics_render(&m, &out));
	pmhc_sb_put(&out, "", 0);
	out.p[out.len] = '\0';
	has(out.p, "\npmhc_calls_total 12\n");
	has(out.p, "\npmhc_decisions_total{response=\"CIT\"} 5\n");
	has(out.p, "\npmhc_decisions_total{response=\"STANDARD\"} 0\n");
	has(out.p, "\npmhc_batch_write_seconds_bucket{le=\"0.005\"} 1\n");
	has(out.p, "\npmhc_batch_write_seconds_bucket{le=\"0.25\"} 2\n");
	has(out.p, "\npmhc_batch_write_seconds_bucket{le=\"10\"} 2\n");
	has(out.p, "\npmhc_batch_write_seconds_bucket{le=\"+Inf\"} 3\n");
	has(out.p, "\npmhc_batch_write_seconds_count 3\n");
	has(out.p, "\npmhc_backlog_events 40\n");
	has(out.p, "\npmhc_backlog_bytes 4096\n");
	has(out.p, "\npmhc_kafka_up 1\n");
	has(out.p, "\npmhc_ready 1\n");
	/* A label value's quote and backslash are escaped. */
	has(out.p, "rules_version=\"v\\\"1\\\\\"} 1\n");
	/* Only the active partitions with a known lag; never the unassigned "-1". */
	has(out.p, "\npmhc_kafka_consumer_lag{topic=\"cad.calls\",partition=\"0\"} 7\n");
	ck_assert_ptr_null(strstr(out.p, "partition=\"1\""));
	ck_assert_ptr_null(strstr(out.p, "partition=\"2\""));
	ck_assert_ptr_null(strstr(out.p, "partition=\"-1\""));
	double age = 0;
	const char *a = strstr(out.p, "\npmhc_oldest_unstored_event_age_seconds ");
	ck_assert_ptr_nonnull(a);
	sscanf(a + strlen("\npmhc_oldest_unstored_event_age_seconds "), "%lf", &age);
	ck_assert(age >= 2 && age < 10);
	pmhc_sbuf_free(&out);
	pmhc_metrics_destroy(&m);
}
END_TEST

START_TEST(health_and_readiness)
{
	struct pmhc_metrics m;
	pmhc_metrics_init(&m, 1000);
	struct pmhc_metrics_loop l;
	loop_view(&l);
	char why[512];
	pmhc_metrics_publish(&m, &l);
	ck_assert(pmhc_metrics_healthy(&m, why, sizeof why));
	ck_assert(!pmhc_metrics_ready(&m, why, sizeof why)); /* no Kafka statistics yet */
	ck_assert_str_eq(why, "Kafka: no broker connected");
	pmhc_metrics_kafka_stats(&m, stats, strlen(stats));
	ck_assert(pmhc_metrics_ready(&m, why, sizeof why));

	l.pg_up = false; /* an outage: not ready, still healthy */
	pmhc_metrics_publish(&m, &l);
	ck_assert(pmhc_metrics_healthy(&m, why, sizeof why));
	ck_assert(!pmhc_metrics_ready(&m, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "PostgreSQL down"));

	l.stall_since_ms = pmhc_mono_ms() - 3000; /* escalated: neither */
	snprintf(l.stall_reason, sizeof l.stall_reason, "PostgreSQL refuses pmhc_move_calls with SQLSTATE 42501");
	pmhc_metrics_publish(&m, &l);
	ck_assert(!pmhc_metrics_healthy(&m, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "escalated for 3 s"));
	ck_assert_ptr_nonnull(strstr(why, "SQLSTATE 42501"));
	ck_assert_ptr_null(strchr(why, '\n'));
	ck_assert(!pmhc_metrics_ready(&m, why, sizeof why));
	pmhc_metrics_destroy(&m);
}
END_TEST

Suite *suite_observe(void)
{
	Suite *s = suite_create("observe");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, persistent_sqlstates);
	tcase_add_test(tc, listen_values);
	tcase_add_test(tc, exposition);
	tcase_add_test(tc, health_and_readiness);
	suite_add_tcase(s, tc);
	return s;
}
