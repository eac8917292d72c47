/*
 * cli — see cli.h. A library of its own rather than part of pmhc_pbjson, so that the
 * converter stays free of librdkafka.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

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

int pmhc_cli_set_property(const char *prog, rd_kafka_conf_t *conf, const char *name,
			  const char *value)
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
		fprintf(stderr, "%s: -X %s: expected NAME=VALUE (a librdkafka property)\n", prog,
			arg);
		return -1;
	}
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		return -1;
	rc = pmhc_cli_set_property(prog, conf, name, eq + 1);
	free(name);
	return rc;
}

int pmhc_cli_common_option(const char *prog, int c, const char *arg, rd_kafka_conf_t *conf,
			   const char **brokers, void (*usage)(FILE *out), int *status)
{
	switch (c) {
	case 'b':
		*brokers = arg;
		return 0;
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

int pmhc_cli_set_brokers(const char *prog, rd_kafka_conf_t *conf, const char *brokers,
			 int required)
{
	size_t probelen = 0;

	if (!brokers)
		brokers = getenv("PMHC_BROKERS");
	if (brokers && *brokers && pmhc_cli_set_property(prog, conf, "bootstrap.servers",
							 brokers) < 0)
		return EX_USAGE;
	/* Asked of the conf, not of -b: -X bootstrap.servers=... counts as well. */
	if (required &&
	    (rd_kafka_conf_get(conf, "bootstrap.servers", NULL, &probelen) != RD_KAFKA_CONF_OK ||
	     probelen <= 1))
		return pmhc_cli_usage_error(prog, "no Kafka brokers: give -b host:port or set "
						  "PMHC_BROKERS");
	return 0;
}
