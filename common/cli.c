/*
 * cli — see cli.h. A library of its own rather than part of pmhc_pbjson, so that the
 * converter stays free of librdkafka.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "pmhc_build.h"

volatile sig_atomic_t pmhc_cli_stop_signal;

static void on_stop_signal(int sig)
{
	pmhc_cli_stop_signal = sig;
}

void pmhc_cli_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int pmhc_cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pmhc_cli_help_hint(prog);
	return EX_USAGE;
}

void pmhc_cli_help_hint(const char *prog)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
}

void pmhc_cli_print_version(const char *prog)
{
	/* Named after the package, not the tool: the tools ship and version with pmhcd. */
	printf("%s (pmhcd) %s\n", prog, PMHC_VERSION);
}

int pmhc_cli_set_property(const char *prog, rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[512];

	/* Worded as -X even for our own defaults: a user's -X is what usually fails here. */
	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "%s: -X %s=%s: %s\n", prog, name, value, errstr);
		return -1;
	}
	return 0;
}

rd_kafka_conf_t *pmhc_cli_new_conf(const char *prog, const char *const *defaults)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	for (; *defaults; defaults += 2)
		if (pmhc_cli_set_property(prog, conf, defaults[0], defaults[1]) < 0)
			goto fail;
	if (pmhc_cli_set_property(prog, conf, "client.id", prog) < 0)
		goto fail;
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

int pmhc_cli_set_x_property(const char *prog, rd_kafka_conf_t *conf, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name;
	int rc;

	if (!eq || eq == arg) {
		fprintf(stderr, "%s: -X %s: expected NAME=VALUE (a librdkafka property)\n", prog, arg);
		return -1;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -1;
	rc = pmhc_cli_set_property(prog, conf, name, eq + 1);
	free(name);
	return rc;
}

int pmhc_cli_common_option(const char *prog, int c, const char *arg, rd_kafka_conf_t *conf, const char **brokers,
			   void (*usage)(FILE *out), int *status)
{
	switch (c) {
	case 'b': *brokers = arg; return 0;
	case 'X':
		if (pmhc_cli_set_x_property(prog, conf, arg) == 0)
			return 0;
		*status = EX_USAGE;
		return 1;
	case 'h':
		usage(stdout);
		*status = 0;
		return 1;
	case 'V':
		pmhc_cli_print_version(prog);
		*status = 0;
		return 1;
	default: /* getopt_long has said what is wrong */
		pmhc_cli_help_hint(prog);
		*status = EX_USAGE;
		return 1;
	}
}

int pmhc_cli_set_brokers(const char *prog, rd_kafka_conf_t *conf, const char *brokers, int required)
{
	size_t probelen = 0;

	if (!brokers)
		brokers = getenv("PMHC_BROKERS");
	if (brokers && *brokers && pmhc_cli_set_property(prog, conf, "bootstrap.servers", brokers) < 0)
		return EX_USAGE;
	/* Asked of the conf, not of -b: -X bootstrap.servers=... counts as well. */
	if (required &&
	    (rd_kafka_conf_get(conf, "bootstrap.servers", NULL, &probelen) != RD_KAFKA_CONF_OK || probelen <= 1))
		return pmhc_cli_usage_error(prog, "no Kafka brokers: give -b host:port or set "
						  "PMHC_BROKERS");
	return 0;
}

int pmhc_cli_parse_long(const char *s, long min, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < min)
		return -1;
	*out = v;
	return 0;
}

int pmhc_cli_start_consumer(const char *prog, rd_kafka_conf_t **conf, rd_kafka_t **rk)
{
	char errstr[512];

	*rk = rd_kafka_new(RD_KAFKA_CONSUMER, *conf, errstr, sizeof(errstr));
	if (!*rk) {
		fprintf(stderr, "%s: cannot create the Kafka consumer: %s\n", prog, errstr);
		return EX_USAGE;
	}
	*conf = NULL; /* rd_kafka_new() took ownership */
	rd_kafka_poll_set_consumer(*rk);
	pmhc_cli_catch_stop_signals();
	return 0;
}

void pmhc_cli_free_kafka(rd_kafka_t *rk, rd_kafka_conf_t *conf)
{
	if (rk)
		rd_kafka_destroy(rk);
	if (conf)
		rd_kafka_conf_destroy(conf);
}

int pmhc_cli_topic_partitions(const char *prog, rd_kafka_t *rk, const char *topic, int32_t **ids, int *n)
{
	const struct rd_kafka_metadata *md = NULL;
	const struct rd_kafka_metadata_topic *mt;
	rd_kafka_topic_t *rkt;
	rd_kafka_resp_err_t err;
	int i, rc = -1;

	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (!rkt) {
		fprintf(stderr, "%s: topic %s: %s\n", prog, topic, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, PMHC_CLI_METADATA_TIMEOUT_MS);
	if (err) {
		fprintf(stderr,
			"%s: cannot read the metadata of topic %s: %s "
			"(are the brokers right and reachable?)\n",
			prog, topic, rd_kafka_err2str(err));
		goto out;
	}
	mt = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	if (!mt || mt->err || mt->partition_cnt == 0) {
		fprintf(stderr, "%s: topic %s is not available: %s\n", prog, topic,
			mt && mt->err ? rd_kafka_err2str(mt->err) : "it has no partitions");
		goto out;
	}
	*ids = malloc(sizeof(**ids) * (size_t)mt->partition_cnt);
	if (!*ids)
		goto out;
	for (i = 0; i < mt->partition_cnt; i++)
		(*ids)[i] = mt->partitions[i].id;
	*n = mt->partition_cnt;
	rc = 0;
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return rc;
}

int pmhc_cli_add_partitions(const char *prog, rd_kafka_t *rk, const char *topic, int from_beginning,
			    rd_kafka_topic_partition_list_t *list, int *n)
{
	int32_t *ids = NULL;
	int i;

	if (pmhc_cli_topic_partitions(prog, rk, topic, &ids, n) < 0)
		return -1;
	for (i = 0; i < *n; i++) {
		int64_t low, high = RD_KAFKA_OFFSET_END;

		if (!from_beginning) {
			rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, ids[i], &low, &high,
										   PMHC_CLI_METADATA_TIMEOUT_MS);

			if (err) {
				fprintf(stderr, "%s: cannot read the end offset of %s [%" PRId32 "]: %s\n", prog, topic,
					ids[i], rd_kafka_err2str(err));
				free(ids);
				return -1;
			}
		}
		rd_kafka_topic_partition_list_add(list, topic, ids[i])->offset =
			from_beginning ? RD_KAFKA_OFFSET_BEGINNING : high;
	}
	free(ids);
	return 0;
}
