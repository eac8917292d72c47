/*
 * pmhc-kafka-coordinator — print the node id of the broker that coordinates a
 * consumer group, for tests/support/kafka.sh ("coordinator"), so that a fault
 * test can kill exactly that broker and check that the role moved.
 *
 *   pmhc-kafka-coordinator -b BROKERS GROUP
 *
 * Exit status: 0 with the id on stdout; 1 when the cluster did not say within
 * 10 s (the reason on stderr); 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define PROG "pmhc-kafka-coordinator"
#define WAIT_MS 10000

static int describe(rd_kafka_t *rk, const char *group)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
	char err[256];
	rd_kafka_AdminOptions_set_request_timeout(opt, WAIT_MS, err, sizeof err);
	const char *groups[] = { group };
	rd_kafka_DescribeConsumerGroups(rk, groups, 1, opt, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, WAIT_MS + 1000);
	int id = -1;
	if (ev == NULL) {
		fprintf(stderr, "%s: no answer within %d ms\n", PROG, WAIT_MS);
	} else if (rd_kafka_event_error(ev)) {
		fprintf(stderr, "%s: %s\n", PROG, rd_kafka_event_error_string(ev));
	} else {
		size_t n = 0;
		const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
			rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
		const rd_kafka_error_t *e = n == 1 ? rd_kafka_ConsumerGroupDescription_error(d[0]) : NULL;
		const rd_kafka_Node_t *node = n == 1 ? rd_kafka_ConsumerGroupDescription_coordinator(d[0]) : NULL;
		if (e != NULL)
			fprintf(stderr, "%s: group %s: %s\n", PROG, group, rd_kafka_error_string(e));
		else if (node == NULL)
			fprintf(stderr, "%s: group %s: no coordinator in the answer\n", PROG, group);
		else
			id = rd_kafka_Node_id(node);
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_queue_destroy(q);
	return id;
}

int main(int argc, char **argv)
{
	const char *brokers = NULL;
	int c;
	while ((c = getopt(argc, argv, "b:h")) != -1) {
		if (c == 'b') {
			brokers = optarg;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"Usage: %s -b BROKERS GROUP\n"
				"Print the node id of the broker coordinating consumer group GROUP.\n",
				PROG);
			return c == 'h' ? 0 : 2;
		}
	}
	if (brokers == NULL || optind != argc - 1) {
		fprintf(stderr, "Usage: %s -b BROKERS GROUP\n", PROG);
		return 2;
	}
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rd_kafka_conf_destroy(conf);
		return 2;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (rk == NULL) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	int id = describe(rk, argv[optind]);
	rd_kafka_destroy(rk);
	if (id < 0)
		return 1;
	printf("%d\n", id);
	return 0;
}
