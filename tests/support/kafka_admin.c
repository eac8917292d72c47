/*
 * pmhc-kafka-admin — create topics on a real Kafka cluster through
 * librdkafka's Admin API, for tests/support/kafka.sh.
 *
 * kafka.sh could run Kafka's own TopicCommand instead, but that is one JVM
 * per topic (about 0.8 s of CPU each on the 2-core test machine); this makes
 * every topic in one CreateTopics request in a few milliseconds.
 *
 *   pmhc-kafka-admin -b BROKERS [-r RF] [-l NODE] [-c NAME=VALUE]...
 *                    [-w SECONDS] TOPIC=PARTITIONS...
 *
 * A topic that already exists counts as created (so a retry after a lost
 * answer does not fail), whatever its partitions. Errors a starting cluster
 * gives (no controller yet, fewer brokers registered than the replication
 * factor, timeouts, connection refused) are retried until the deadline;
 * errors in the request itself (a bad name, config or count) are not.
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define PROG "pmhc-kafka-admin"

#define MAX_TOPICS 64
#define MAX_CONFIGS 32
#define MAX_PARTITIONS 1024

struct topic {
	const char *name;
	int partitions;
	int done;
};

struct options {
	const char *brokers;
	int replication_factor;
	int leader; /* 0: the controller places replicas; else node leader first, then the others */
	const char *config_names[MAX_CONFIGS];
	const char *config_values[MAX_CONFIGS];
	int config_cnt;
	int wait_s;
	struct topic topics[MAX_TOPICS];
	int topic_cnt;
};

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: " PROG " -b BROKERS [OPTION]... TOPIC=PARTITIONS...\n"
		     "Create each TOPIC with PARTITIONS partitions on the Kafka cluster at\n"
		     "BROKERS, in one CreateTopics request, retrying while the cluster starts.\n"
		     "\n"
		     "  -b, --brokers HOST:PORT[,...]  bootstrap servers (required)\n"
		     "  -r, --replication-factor N     replicas of each partition (default 1)\n"
		     "  -l, --leader NODE              every partition led by node NODE: its\n"
		     "                                 replicas are NODE, then nodes 1 to N in\n"
		     "                                 order (kafka.sh numbers its nodes so)\n"
		     "  -c, --config NAME=VALUE        topic configuration, e.g.\n"
		     "                                 min.insync.replicas=2 (repeatable)\n"
		     "  -w, --wait SECONDS             give up after this long (default 60)\n"
		     "  -h, --help                     show this help and exit\n"
		     "\n"
		     "A topic that already exists counts as created, whatever its partitions.\n"
		     "Exit status: 0 when every topic exists, 1 when one could not be created\n"
		     "(the broker's reason is printed), 2 on a usage error.\n");
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* 0: run; 1: --help shown; -1: usage error. */
static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "replication-factor", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "leader", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->replication_factor = 1;
	opt->wait_s = 60;
	while ((c = getopt_long(argc, argv, "b:r:l:c:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': opt->brokers = optarg; break;
		case 'r':
			if (parse_int(optarg, 1, 16, &opt->replication_factor) < 0) {
				logmsg("invalid --replication-factor \"%s\": expected 1 to 16", optarg);
				return -1;
			}
			break;
		case 'l':
			if (parse_int(optarg, 1, 16, &opt->leader) < 0) {
				logmsg("invalid --leader \"%s\": expected a node id, 1 to 16", optarg);
				return -1;
			}
			break;
		case 'c': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || opt->config_cnt >= MAX_CONFIGS) {
				logmsg("invalid --config \"%s\": expected NAME=VALUE (at most %d)", optarg,
				       MAX_CONFIGS);
				return -1;
			}
			*eq = '\0';
			opt->config_names[opt->config_cnt] = optarg;
			opt->config_values[opt->config_cnt++] = eq + 1;
			break;
		}
		case 'w':
			if (parse_int(optarg, 1, 3600, &opt->wait_s) < 0) {
				logmsg("invalid --wait \"%s\": expected 1 to 3600 seconds", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: fprintf(stderr, "Try '" PROG " --help' for more information.\n"); return -1;
		}
	}
	if (opt->brokers == NULL || opt->brokers[0] == '\0') {
		logmsg("no --brokers given");
		return -1;
	}
	if (optind >= argc) {
		logmsg("no TOPIC=PARTITIONS given");
		return -1;
	}
	for (; optind < argc; optind++) {
		char *arg = argv[optind];
		char *eq = strrchr(arg, '=');
		struct topic *t = &opt->topics[opt->topic_cnt];

		if (opt->topic_cnt >= MAX_TOPICS) {
			logmsg("too many topics (at most %d)", MAX_TOPICS);
			return -1;
		}
		if (eq == NULL || eq == arg || parse_int(eq + 1, 1, MAX_PARTITIONS, &t->partitions) < 0) {
			logmsg("invalid topic \"%s\": expected NAME=PARTITIONS with 1 to %d partitions", arg,
			       MAX_PARTITIONS);
			return -1;
		}
		*eq = '\0';
		t->name = arg;
		opt->topic_cnt++;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Errors in the request itself: asking again cannot help. */
static int is_permanent(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
	case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
	case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
	case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
	case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
	case RD_KAFKA_RESP_ERR__INVALID_ARG: return 1;
	default: return 0;
	}
}

/* Every partition of t on nodes leader, then 1 to RF in order: a test can know its leader. */
static int place_replicas(rd_kafka_NewTopic_t *nt, const struct topic *t, const struct options *opt)
{
	int32_t nodes[16];
	int cnt = 0;
	char errstr[512];

	if (opt->leader > opt->replication_factor) {
		logmsg("--leader %d: not among nodes 1 to %d", opt->leader, opt->replication_factor);
		return -1;
	}
	nodes[cnt++] = opt->leader;
	for (int id = 1; id <= opt->replication_factor; id++)
		if (id != opt->leader)
			nodes[cnt++] = id;
	for (int p = 0; p < t->partitions; p++)
		if (rd_kafka_NewTopic_set_replica_assignment(nt, p, nodes, (size_t)cnt, errstr, sizeof(errstr)) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR) {
			logmsg("topic %s: %s", t->name, errstr);
			return -1;
		}
	return 0;
}

/*
 * One CreateTopics request for the topics not yet done. Returns 0 when all are
 * done, 1 to try again, -1 on a permanent error.
 */
static int create_once(rd_kafka_t *rk, struct options *opt, int timeout_ms, char *last, size_t lastsz)
{
	rd_kafka_NewTopic_t *nt[MAX_TOPICS];
	int idx[MAX_TOPICS];
	int n = 0, rc = 0;
	char errstr[512];
	rd_kafka_AdminOptions_t *ao;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;

	for (int i = 0; i < opt->topic_cnt; i++) {
		struct topic *t = &opt->topics[i];
		if (t->done)
			continue;
		nt[n] = rd_kafka_NewTopic_new(t->name, t->partitions, opt->leader ? -1 : opt->replication_factor,
					      errstr, sizeof(errstr));
		if (nt[n] == NULL) {
			logmsg("topic %s: %s", t->name, errstr);
			rc = -1;
			goto out;
		}
		if (opt->leader && place_replicas(nt[n], t, opt) != 0) {
			rd_kafka_NewTopic_destroy(nt[n]);
			rc = -1;
			goto out;
		}
		for (int k = 0; k < opt->config_cnt; k++) {
			if (rd_kafka_NewTopic_set_config(nt[n], opt->config_names[k], opt->config_values[k]) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR) {
				logmsg("topic %s: cannot set %s", t->name, opt->config_names[k]);
				rd_kafka_NewTopic_destroy(nt[n]);
				rc = -1;
				goto out;
			}
		}
		idx[n++] = i;
	}
	if (n == 0)
		return 0;

	ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, errstr, sizeof(errstr));
	rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, errstr, sizeof(errstr));
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, nt, (size_t)n, ao, q);
	ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
	if (ev == NULL) {
		snprintf(last, lastsz, "no answer within %d ms", timeout_ms + 5000);
		rc = 1;
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(last, lastsz, "%s", rd_kafka_event_error_string(ev));
		rc = is_permanent(rd_kafka_event_error(ev)) ? -1 : 1;
	} else {
		const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
		size_t cnt = 0;
		const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);

		for (size_t j = 0; j < cnt; j++) {
			const char *name = rd_kafka_topic_result_name(tr[j]);
			rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[j]);
			const char *msg = rd_kafka_topic_result_error_string(tr[j]);
			struct topic *t = NULL;

			for (int k = 0; k < n && t == NULL; k++)
				if (strcmp(opt->topics[idx[k]].name, name) == 0)
					t = &opt->topics[idx[k]];
			if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
				if (t != NULL)
					t->done = 1;
				continue;
			}
			snprintf(last, lastsz, "topic %s: %s (%s)", name, msg ? msg : rd_kafka_err2str(err),
				 rd_kafka_err2name(err));
			if (is_permanent(err)) {
				logmsg("%s", last);
				rc = -1;
			} else if (rc == 0) {
				rc = 1;
			}
		}
		for (int k = 0; k < n && rc == 0; k++)
			if (!opt->topics[idx[k]].done)
				rc = 1; /* not in the answer: ask again */
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(ao);
out:
	rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
	return rc;
}

int main(int argc, char **argv)
{
	struct options opt;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[512];
	char last[1024] = "";
	double deadline;
	int rc, pr;

	pr = parse_args(argc, argv, &opt);
	if (pr != 0)
		return pr > 0 ? 0 : 2;

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", opt.brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "2", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		logmsg("%s", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		logmsg("cannot create a Kafka client: %s", errstr);
		return 1;
	}

	deadline = now_s() + opt.wait_s;
	for (;;) {
		double left = deadline - now_s();
		int timeout_ms = left > 10.0 ? 10000 : (int)(left * 1000.0);

		if (timeout_ms < 500)
			timeout_ms = 500;
		rc = create_once(rk, &opt, timeout_ms, last, sizeof(last));
		if (rc <= 0)
			break;
		if (now_s() + 0.2 >= deadline) {
			logmsg("gave up after %d s; last error: %s", opt.wait_s, last);
			rc = -1;
			break;
		}
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	rd_kafka_destroy(rk);
	return rc == 0 ? 0 : 1;
}
