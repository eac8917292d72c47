/*
 * The transport decisions of daemon/transport_check.c: which hosts are this
 * machine, which settings verify the broker and the server, which librdkafka
 * a Kafka 4 broker refuses SCRAM from, and what a TLS failure tells to do.
 */
#include <string.h>

#include "suites.h"
#include "transport_check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(local_hosts)
{
	const char *local[] = { NULL,  "",        "localhost", "LOCALHOST",        "127.0.0.1", "127.1.2.3",
				"::1", "/run/pg", "@abstract", "::ffff:127.0.0.1", "localhost." };
	for (size_t i = 0; i < N(local); i++)
		ck_assert_msg(pmhc_host_is_local(local[i]), "%s should be local", local[i] ? local[i] : "NULL");
	const char *remote[] = { "10.0.0.5",  "192.0.2.1", "db.example.org",    "::2",        "::ffff:10.0.0.1",
				 "128.0.0.1", "fe80::1",   "localhost.example", "localhostx", "0.0.0.0" };
	for (size_t i = 0; i < N(remote); i++)
		ck_assert_msg(!pmhc_host_is_local(remote[i]), "%s should be remote", remote[i]);
}
END_TEST

START_TEST(kafka_remote_brokers)
{
	char b[64];
	ck_assert(!pmhc_kafka_remote_broker("127.0.0.1:9092", b, sizeof b));
	ck_assert(!pmhc_kafka_remote_broker("localhost:9092, [::1]:9093,SSL://127.0.0.1:9094", b, sizeof b));
	ck_assert(!pmhc_kafka_remote_broker("", b, sizeof b));
	ck_assert(pmhc_kafka_remote_broker("127.0.0.1:9092, kafka1.example:9093", b, sizeof b));
	ck_assert_str_eq(b, "kafka1.example:9093");
	ck_assert(pmhc_kafka_remote_broker("[2001:db8::1]:9092", b, sizeof b));
	ck_assert_str_eq(b, "[2001:db8::1]:9092");
	ck_assert(pmhc_kafka_remote_broker("SASL_SSL://10.1.2.3:9093", b, sizeof b));
	ck_assert(pmhc_kafka_remote_broker("kafka1", b, sizeof b)); /* no port */
}
END_TEST

START_TEST(kafka_verified_settings)
{
	const char *none[] = { "fetch.wait.max.ms=10" };
	ck_assert_ptr_nonnull(pmhc_kafka_unverified(none, N(none)));
	ck_assert_ptr_nonnull(strstr(pmhc_kafka_unverified(none, N(none)), "security.protocol"));
	ck_assert_ptr_nonnull(pmhc_kafka_unverified(NULL, 0));

	const char *sasl_plain[] = { "security.protocol=SASL_PLAINTEXT" };
	ck_assert_ptr_nonnull(pmhc_kafka_unverified(sasl_plain, N(sasl_plain)));

	const char *ssl[] = { "security.protocol=ssl", "ssl.ca.location=/etc/ca.pem" };
	ck_assert_ptr_null(pmhc_kafka_unverified(ssl, N(ssl)));
	const char *sasl_ssl[] = { "security.protocol=SASL_SSL", "ssl.endpoint.identification.algorithm=https" };
	ck_assert_ptr_null(pmhc_kafka_unverified(sasl_ssl, N(sasl_ssl)));

	const char *no_name[] = { "security.protocol=SSL", "ssl.endpoint.identification.algorithm=none" };
	ck_assert_ptr_nonnull(strstr(pmhc_kafka_unverified(no_name, N(no_name)), "endpoint.identification"));
	const char *no_cert[] = { "security.protocol=SSL", "enable.ssl.certificate.verification=false" };
	ck_assert_ptr_nonnull(strstr(pmhc_kafka_unverified(no_cert, N(no_cert)), "certificate.verification"));

	/* librdkafka applies the properties in order: the last one counts. */
	const char *later_wins[] = { "security.protocol=SSL", "security.protocol=PLAINTEXT" };
	ck_assert_ptr_nonnull(pmhc_kafka_unverified(later_wins, N(later_wins)));
	const char *fixed_later[] = { "security.protocol=SSL", "ssl.endpoint.identification.algorithm=none",
				      "ssl.endpoint.identification.algorithm=https" };
	ck_assert_ptr_null(pmhc_kafka_unverified(fixed_later, N(fixed_later)));
	/* A property whose name only starts like one is another property. */
	const char *prefix[] = { "security.protocol.extra=SSL" };
	ck_assert_ptr_nonnull(pmhc_kafka_unverified(prefix, N(prefix)));
}
END_TEST

START_TEST(kafka_scram_refused_by_old_librdkafka)
{
	const char *scram[] = { "sasl.mechanisms=SCRAM-SHA-512" };
	ck_assert(pmhc_kafka_scram_refused(scram, N(scram), 0x020002ff));  /* 2.0.2: Debian 12 */
	ck_assert(pmhc_kafka_scram_refused(scram, N(scram), 0x020600ff));  /* 2.6.0: still refused */
	ck_assert(!pmhc_kafka_scram_refused(scram, N(scram), 0x020601ff)); /* 2.6.1: fixed */
	ck_assert(!pmhc_kafka_scram_refused(scram, N(scram), 0x020a00ff));

	const char *alias[] = { "sasl.mechanism=scram-sha-256" };
	ck_assert(pmhc_kafka_scram_refused(alias, N(alias), 0x020002ff));
	const char *plain[] = { "sasl.mechanisms=PLAIN" };
	ck_assert(!pmhc_kafka_scram_refused(plain, N(plain), 0x020002ff));
	ck_assert(!pmhc_kafka_scram_refused(NULL, 0, 0x020002ff));
	const char *changed[] = { "sasl.mechanisms=SCRAM-SHA-512", "sasl.mechanism=PLAIN" };
	ck_assert(!pmhc_kafka_scram_refused(changed, N(changed), 0x020002ff));
}
END_TEST

START_TEST(pg_hosts_and_sslmode)
{
	char h[64];
	ck_assert(!pmhc_pg_remote_host(NULL, NULL, h, sizeof h)); /* libpq's default: a Unix socket */
	ck_assert(!pmhc_pg_remote_host("/var/run/postgresql", NULL, h, sizeof h));
	ck_assert(!pmhc_pg_remote_host("localhost,127.0.0.1", "", h, sizeof h));
	ck_assert(pmhc_pg_remote_host("localhost,db2.example", NULL, h, sizeof h));
	ck_assert_str_eq(h, "db2.example");
	/* hostaddr is where libpq connects; host then only names the certificate. */
	ck_assert(pmhc_pg_remote_host("localhost", "10.0.0.7", h, sizeof h));
	ck_assert_str_eq(h, "10.0.0.7");
	ck_assert(!pmhc_pg_remote_host("db.example", "127.0.0.1", h, sizeof h));

	ck_assert(pmhc_pg_sslmode_verified("verify-full"));
	const char *not_verified[] = { NULL, "", "disable", "allow", "prefer", "require", "verify-ca" };
	for (size_t i = 0; i < N(not_verified); i++)
		ck_assert_msg(!pmhc_pg_sslmode_verified(not_verified[i]), "%s is not verified",
			      not_verified[i] ? not_verified[i] : "NULL");
}
END_TEST

START_TEST(error_hints)
{
	const char *pg = pmhc_pg_error_hint("connection to server at \"localhost\" (127.0.0.1), port 5432 failed: "
					    "SSL error: certificate verify failed");
	ck_assert_ptr_nonnull(pg);
	ck_assert_ptr_nonnull(strstr(pg, "sslrootcert"));
	ck_assert_ptr_nonnull(strstr(pmhc_pg_error_hint("server certificate for \"db\" does not match host name "
							"\"10.0.0.1\""),
				     "host"));
	ck_assert_ptr_null(pmhc_pg_error_hint("connection refused"));
	ck_assert_ptr_null(pmhc_pg_error_hint(NULL));

	const char *k = pmhc_kafka_error_hint("SSL handshake failed: error:0A000086:SSL routines::certificate "
					      "verify failed");
	ck_assert_ptr_nonnull(strstr(k, "ssl.ca.location"));
	ck_assert_ptr_nonnull(strstr(pmhc_kafka_error_hint("SASL authentication error: Authentication failed "
							   "due to invalid credentials with SASL mechanism "
							   "SCRAM-SHA-512"),
				     "2.6.1"));
	ck_assert_ptr_nonnull(strstr(pmhc_kafka_error_hint("SASL authentication error: invalid credentials with "
							   "SASL mechanism PLAIN"),
				     "sasl.password"));
	ck_assert_ptr_null(pmhc_kafka_error_hint("Connection refused"));
}
END_TEST

Suite *suite_transport_check(void)
{
	Suite *s = suite_create("transport_check");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, local_hosts);
	tcase_add_test(tc, kafka_remote_brokers);
	tcase_add_test(tc, kafka_verified_settings);
	tcase_add_test(tc, kafka_scram_refused_by_old_librdkafka);
	tcase_add_test(tc, pg_hosts_and_sslmode);
	tcase_add_test(tc, error_hints);
	suite_add_tcase(s, tc);
	return s;
}
