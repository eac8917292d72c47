/*
 * pmhc-mock-kafka — librdkafka's in-memory mock cluster as a stand-alone
 * process, so that tests, benchmarks and the demo talk to a real Kafka
 * protocol endpoint on 127.0.0.1 without a JVM.
 *
 * Lifecycle:
 *   1. create the mock cluster (N brokers) on a private rd_kafka_t handle;
 *   2. create every topic with rd_kafka_mock_topic_create() (the mock has no
 *      CreateTopics admin API, see NOTES.md);
 *   3. announce the bootstrap address: "bootstrap=<addr>" on stdout and,
 *      atomically (PATH.tmp + rename), in --bootstrap-file;
 *   4. wait for signals: SIGTERM/SIGINT stop, SIGUSR1 takes every broker
 *      down, SIGUSR2 brings them back (outage tests);
 *   5. destroy the cluster, remove the files it wrote, exit 0.
 *
 * Signal handlers only set flags; the main thread acts on them. All handled
 * signals are blocked before librdkafka starts its threads, so they inherit
 * the block and only the main thread (in sigsuspend) ever receives them.
 *
 * Everything is in memory and retention is tiny (5 MiB or 100,000 message
 * sets per partition): see NOTES.md before using it for volume tests.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define PROG "pmhc-mock-kafka"

#define MAX_TOPICS 64
#define MAX_BROKERS 16
#define MAX_PARTITIONS 1024

static const char *const default_topics[] = {
	"cad.calls", "cad.units", "cad.dispositions", "cad.history", "pmhc.recommendations", "pmhc.dlq",
};

struct options {
	int brokers;
	int partitions;
	const char *topics[MAX_TOPICS];
	int topic_cnt;
	/* --topic-partitions: a topic of the list with its own count. */
	const char *own_names[MAX_TOPICS];
	int own_partitions[MAX_TOPICS];
	int own_cnt;
	const char *bootstrap_file; /* NULL: stdout only */
	const char *pid_file;       /* NULL: none */
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t down_requested;
static volatile sig_atomic_t up_requested;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT: stop_requested = 1; break;
	case SIGUSR1: down_requested = 1; break;
	case SIGUSR2: up_requested = 1; break;
	default: break;
	}
}

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
	size_t i;

	fprintf(out,
		"Usage: " PROG " [OPTION]...\n"
		"Run librdkafka's in-memory mock Kafka cluster on 127.0.0.1 until\n"
		"SIGTERM or SIGINT.\n"
		"\n"
		"  -b, --brokers N            number of brokers (1-%d, default 1)\n"
		"  -p, --partitions N         partitions per topic (1-%d, default 4)\n"
		"  -t, --topic NAME           create topic NAME (repeatable, up to %d);\n"
		"                             replaces the default topic list\n"
		"  -T, --topic-partitions NAME=N\n"
		"                             give topic NAME N partitions instead of\n"
		"                             --partitions (repeatable)\n"
		"  -f, --bootstrap-file PATH  write the bootstrap address to PATH\n"
		"                             (atomically: PATH.tmp, then rename)\n"
		"  -P, --pid-file PATH        write the process id to PATH\n"
		"  -h, --help                 show this help and exit\n"
		"\n"
		"Default topics:",
		MAX_BROKERS, MAX_PARTITIONS, MAX_TOPICS);
	for (i = 0; i < sizeof(default_topics) / sizeof(default_topics[0]); i++)
		fprintf(out, " %s", default_topics[i]);
	fprintf(out, "\n"
		     "\n"
		     "On start it prints \"bootstrap=HOST:PORT[,HOST:PORT...]\" on stdout.\n"
		     "Signals: SIGUSR1 takes all brokers down (connections are cut and\n"
		     "refused), SIGUSR2 brings them back up. Topics, messages and committed\n"
		     "offsets live in memory and survive a down/up cycle, not a restart.\n"
		     "Files written with -f and -P are removed on a clean exit.\n"
		     "Exit status: 0 after a clean stop, 1 on a start-up error, 2 on a\n"
		     "usage error.\n");
}

/* Parse a decimal int in [min, max]; 0 on success, -1 otherwise. */
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

/* 0: parsed, run; 1: --help shown, exit 0; -1: usage error, exit 2. */
static int parse_args(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "partitions", required_argument, NULL, 'p' },
		{ "topic", required_argument, NULL, 't' },
		{ "topic-partitions", required_argument, NULL, 'T' },
		{ "bootstrap-file", required_argument, NULL, 'f' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opt->brokers = 1;
	opt->partitions = 4;
	opt->topic_cnt = 0;
	opt->own_cnt = 0;
	opt->bootstrap_file = NULL;
	opt->pid_file = NULL;

	while ((c = getopt_long(argc, argv, "b:p:t:T:f:P:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_int(optarg, 1, MAX_BROKERS, &opt->brokers) < 0) {
				logmsg("invalid --brokers \"%s\": expected an integer from 1 to %d", optarg,
				       MAX_BROKERS);
				return -1;
			}
			break;
		case 'p':
			if (parse_int(optarg, 1, MAX_PARTITIONS, &opt->partitions) < 0) {
				logmsg("invalid --partitions \"%s\": expected an integer from 1 to %d", optarg,
				       MAX_PARTITIONS);
				return -1;
			}
			break;
		case 't':
			if (optarg[0] == '\0') {
				logmsg("invalid --topic: the name is empty");
				return -1;
			}
			if (opt->topic_cnt >= MAX_TOPICS) {
				logmsg("too many --topic options (at most %d)", MAX_TOPICS);
				return -1;
			}
			opt->topics[opt->topic_cnt++] = optarg;
			break;
		case 'T': {
			char *eq = strrchr(optarg, '=');
			if (eq == NULL || eq == optarg || opt->own_cnt >= MAX_TOPICS ||
			    parse_int(eq + 1, 1, MAX_PARTITIONS, &opt->own_partitions[opt->own_cnt]) < 0) {
				logmsg("invalid --topic-partitions \"%s\": expected NAME=N with N from 1 to %d", optarg,
				       MAX_PARTITIONS);
				return -1;
			}
			*eq = '\0';
			opt->own_names[opt->own_cnt++] = optarg;
			break;
		}
		case 'f': opt->bootstrap_file = optarg; break;
		case 'P': opt->pid_file = optarg; break;
		case 'h': usage(stdout); return 1;
		default: fprintf(stderr, "Try '" PROG " --help' for more information.\n"); return -1;
		}
	}
	if (optind < argc) {
		logmsg("unexpected argument \"%s\"", argv[optind]);
		fprintf(stderr, "Try '" PROG " --help' for more information.\n");
		return -1;
	}
	if (opt->topic_cnt == 0) {
		size_t i;

		for (i = 0; i < sizeof(default_topics) / sizeof(default_topics[0]); i++)
			opt->topics[opt->topic_cnt++] = default_topics[i];
	}
	for (int k = 0; k < opt->own_cnt; k++) {
		int found = 0;
		for (int i = 0; i < opt->topic_cnt && !found; i++)
			found = strcmp(opt->own_names[k], opt->topics[i]) == 0;
		if (!found) {
			logmsg("--topic-partitions %s: no such topic is created", opt->own_names[k]);
			return -1;
		}
	}
	return 0;
}

/*
 * Write "<text>\n" to PATH.tmp and rename it to PATH, so that a reader polling
 * for PATH never sees a partial line.
 */
static int write_file_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *fp = NULL;
	int ret = -1;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		logmsg("cannot write \"%s\": path too long", path);
		return -1;
	}
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		logmsg("cannot create \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	if (fprintf(fp, "%s\n", text) < 0 || fflush(fp) != 0) {
		logmsg("cannot write \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		logmsg("cannot write \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) != 0) {
		logmsg("cannot rename \"%s\" to \"%s\": %s", tmp, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (ret != 0)
		unlink(tmp);
	return ret;
}

static int install_handlers(sigset_t *handled)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(handled);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			logmsg("sigaction(%d): %s", sigs[i], strerror(errno));
			return -1;
		}
		sigaddset(handled, sigs[i]);
	}
	/* A client vanishing mid-write must not kill the cluster. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		logmsg("sigaction(SIGPIPE): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Take brokers 1..cnt down (up = 0) or up (up = 1); returns the failure count. */
static int brokers_apply(rd_kafka_mock_cluster_t *mcluster, int cnt, int up)
{
	int id;
	int failed = 0;

	for (id = 1; id <= cnt; id++) {
		rd_kafka_resp_err_t err =
			up ? rd_kafka_mock_broker_set_up(mcluster, id) : rd_kafka_mock_broker_set_down(mcluster, id);

		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			logmsg("cannot set broker %d %s: %s", id, up ? "up" : "down", rd_kafka_err2str(err));
			failed++;
		}
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct options opt;
	sigset_t handled, waitmask;
	char errstr[512];
	rd_kafka_conf_t *conf = NULL;
	rd_kafka_t *rk = NULL;
	rd_kafka_mock_cluster_t *mcluster = NULL;
	const char *bootstraps;
	int bootstrap_written = 0, pid_written = 0;
	int ret = 1;
	int i, r;

	r = parse_args(argc, argv, &opt);
	if (r != 0)
		return r > 0 ? 0 : 2;

	/*
     * Block the handled signals before librdkafka creates any thread: its
     * threads inherit the mask, so only sigsuspend() below receives them.
     */
	if (install_handlers(&handled) < 0)
		return 1;
	if (sigprocmask(SIG_BLOCK, &handled, &waitmask) != 0) {
		logmsg("sigprocmask: %s", strerror(errno));
		return 1;
	}
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGUSR2);

	/*
     * The handle only does book-keeping for the cluster; it never connects
     * anywhere (no bootstrap.servers), so silence its "no brokers" notice.
     */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "client.id", PROG, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		logmsg("cannot configure the librdkafka handle: %s", errstr);
		goto out;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		logmsg("rd_kafka_new failed: %s", errstr);
		goto out; /* conf is still ours on failure */
	}
	conf = NULL; /* rd_kafka_new() took ownership */

	mcluster = rd_kafka_mock_cluster_new(rk, opt.brokers);
	if (mcluster == NULL) {
		logmsg("cannot create a mock cluster of %d broker(s) "
		       "(see librdkafka's messages above)",
		       opt.brokers);
		goto out;
	}

	for (i = 0; i < opt.topic_cnt; i++) {
		int partitions = opt.partitions;
		for (int k = 0; k < opt.own_cnt; k++)
			if (strcmp(opt.own_names[k], opt.topics[i]) == 0)
				partitions = opt.own_partitions[k];
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, opt.topics[i], partitions, 1);

		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			logmsg("cannot create topic \"%s\" (%d partitions): %s", opt.topics[i], partitions,
			       rd_kafka_err2str(err));
			goto out;
		}
	}

	bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);

	if (opt.pid_file != NULL) {
		char pidbuf[32];

		snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)getpid());
		if (write_file_atomic(opt.pid_file, pidbuf) < 0)
			goto out;
		pid_written = 1;
	}
	if (opt.bootstrap_file != NULL) {
		if (write_file_atomic(opt.bootstrap_file, bootstraps) < 0)
			goto out;
		bootstrap_written = 1;
	}
	if (printf("bootstrap=%s\n", bootstraps) < 0 || fflush(stdout) != 0) {
		/* stdout closed is no reason to stop serving; the file has it too */
		logmsg("cannot write to stdout: %s", strerror(errno));
		clearerr(stdout);
	}
	logmsg("%d broker(s) at %s, %d topic(s) of %d partition(s); pid %ld", opt.brokers, bootstraps, opt.topic_cnt,
	       opt.partitions, (long)getpid());

	while (!stop_requested) {
		sigsuspend(&waitmask); /* returns -1/EINTR after a handler ran */
		if (down_requested) {
			down_requested = 0;
			if (brokers_apply(mcluster, opt.brokers, 0) == 0)
				logmsg("SIGUSR1: all %d broker(s) down", opt.brokers);
		}
		if (up_requested) {
			up_requested = 0;
			if (brokers_apply(mcluster, opt.brokers, 1) == 0)
				logmsg("SIGUSR2: all %d broker(s) up", opt.brokers);
		}
	}
	logmsg("stopping");
	ret = 0;

out:
	if (bootstrap_written && unlink(opt.bootstrap_file) != 0 && errno != ENOENT)
		logmsg("cannot remove \"%s\": %s", opt.bootstrap_file, strerror(errno));
	if (pid_written && unlink(opt.pid_file) != 0 && errno != ENOENT)
		logmsg("cannot remove \"%s\": %s", opt.pid_file, strerror(errno));
	if (mcluster != NULL)
		rd_kafka_mock_cluster_destroy(mcluster);
	if (rk != NULL)
		rd_kafka_destroy(rk);
	if (conf != NULL)
		rd_kafka_conf_destroy(conf);
	return ret;
}
