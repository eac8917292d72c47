#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "suites.h"

/* The log goes to stderr: what one call of pmhc_kafka_refused for who wrote there, in buf. */
static bool refused_as(const char *who, rd_kafka_t *rk, rd_kafka_resp_err_t err, struct pmhc_kafka_refusals *seen,
		       char *buf, size_t len)
{
	FILE *tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	rd_kafka_message_t m = { .err = err };
	bool r = pmhc_kafka_refused(rk, &m, who, "Read on group pmhcd-x", strcmp(who, "consumer") == 0, seen);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(buf, 1, len - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return r;
}

/* A consumer in group pmhcd-x that never connects: no bootstrap.servers. */
static rd_kafka_t *consumer(void)
{
	char why[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", "pmhcd-x", why, sizeof why), RD_KAFKA_CONF_OK);
	ck_assert_int_eq(rd_kafka_conf_set(conf, "log_level", "0", why, sizeof why), RD_KAFKA_CONF_OK);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
	ck_assert_msg(rk != NULL, "%s", why);
	return rk;
}

START_TEST(a_refused_group_is_named_with_the_acl_to_grant)
{
	rd_kafka_t *rk = consumer();
	struct pmhc_kafka_refusals seen = { 0 };
	char out[2048];

	ck_assert(refused_as("consumer", rk, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, &seen, out, sizeof out));
	ck_assert_msg(strstr(out, "level=error") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "Kafka refuses the consumer its consumer group") != NULL, "%s", out);
	ck_assert_msg(strstr(out, " group=\"pmhcd-x\" code=GROUP_AUTHORIZATION_FAILED ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "hint=\"grant pmhcd's principal Read on group pmhcd-x ") != NULL, "%s", out);
	rd_kafka_destroy(rk);
}
END_TEST

START_TEST(the_same_refusal_again_is_counted_not_logged)
{
	rd_kafka_t *rk = consumer();
	struct pmhc_kafka_refusals seen = { 0 };
	char out[2048];

	ck_assert(refused_as("consumer", rk, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, &seen, out, sizeof out));
	ck_assert(refused_as("consumer", rk, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, &seen, out, sizeof out));
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(seen.repeats, 1);
	/* Another refusal is news: logged at once, with what the last one counted. */
	ck_assert(refused_as("consumer", rk, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, &seen, out, sizeof out));
	ck_assert_msg(strstr(out, "Kafka refuses the consumer a topic") != NULL, "%s", out);
	ck_assert_msg(strstr(out, " code=TOPIC_AUTHORIZATION_FAILED ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, " repeats=1 ") != NULL, "%s", out);
	ck_assert_uint_eq(seen.repeats, 0);
	rd_kafka_destroy(rk);
}
END_TEST

START_TEST(a_reader_refused_its_group_reads_on_and_is_warned)
{
	rd_kafka_t *rk = consumer();
	struct pmhc_kafka_refusals seen = { 0 };
	char out[2048];

	ck_assert(refused_as("units reader", rk, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, &seen, out, sizeof out));
	ck_assert_msg(strstr(out, "level=warn") != NULL, "%s", out);
	ck_assert_msg(
		strstr(out, "Kafka refuses the units reader the coordinator of the group it names; it reads on") !=
			NULL,
		"%s", out);
	ck_assert_msg(strstr(out, " group=\"pmhcd-x\" code=GROUP_AUTHORIZATION_FAILED ") != NULL, "%s", out);
	rd_kafka_destroy(rk);
}
END_TEST

START_TEST(other_errors_are_left_to_the_caller)
{
	rd_kafka_t *rk = consumer();
	struct pmhc_kafka_refusals seen = { 0 };
	char out[2048];

	ck_assert(!refused_as("consumer", rk, RD_KAFKA_RESP_ERR__TRANSPORT, &seen, out, sizeof out));
	ck_assert(!refused_as("consumer", rk, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, &seen, out, sizeof out));
	ck_assert_str_eq(out, "");
	rd_kafka_destroy(rk);
}
END_TEST

Suite *suite_kafka(void)
{
	Suite *s = suite_create("kafka");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, a_refused_group_is_named_with_the_acl_to_grant);
	tcase_add_test(tc, the_same_refusal_again_is_counted_not_logged);
	tcase_add_test(tc, a_reader_refused_its_group_reads_on_and_is_warned);
	tcase_add_test(tc, other_errors_are_left_to_the_caller);
	suite_add_tcase(s, tc);
	return s;
}
