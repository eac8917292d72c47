/*
 * cli — the command-line plumbing pmhc-produce and pmhc-consume share, so that both
 * tools word their errors, their -X handling and their broker checks the same way.
 *
 * PROG is the tool's name; every message it prints starts with "PROG: ".
 */
#ifndef PMHC_CLI_H
#define PMHC_CLI_H

#include <signal.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>

/* The SIGINT or SIGTERM that asked the tool to stop; 0 until one has. */
extern volatile sig_atomic_t pmhc_cli_stop_signal;

/*
 * Makes the first SIGINT or SIGTERM only set pmhc_cli_stop_signal, so that the tool can
 * finish cleanly; a second one kills (SA_RESETHAND). No SA_RESTART, so that a blocked
 * read returns and the tool sees the flag at once.
 */
void pmhc_cli_catch_stop_signals(void);

/* Prints "PROG: <what>" and the --help hint on stderr; returns EX_USAGE. */
int pmhc_cli_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints only the --help hint, for errors getopt_long has already described. */
void pmhc_cli_help_hint(const char *prog);

/* Prints the -V / --version line on stdout. */
void pmhc_cli_print_version(const char *prog);

/*
 * A new librdkafka configuration holding the tool's DEFAULTS (NAME, VALUE, ..., NULL)
 * and client.id PROG, which -X can then override; NULL (message printed) if librdkafka
 * refuses one.
 */
rd_kafka_conf_t *pmhc_cli_new_conf(const char *prog, const char *const *defaults);

/* Sets one librdkafka property; -1 (message printed) if librdkafka refuses it. */
int pmhc_cli_set_property(const char *prog, rd_kafka_conf_t *conf, const char *name,
			  const char *value);

/* Sets one -X NAME=VALUE; -1 (message printed) if it is malformed or refused. */
int pmhc_cli_set_x_property(const char *prog, rd_kafka_conf_t *conf, const char *arg);

/*
 * Handles what getopt_long returned for an option every tool takes: -b LIST (stored in
 * *BROKERS), -X NAME=VALUE (set on CONF), -h (USAGE on stdout), -V, and '?' (getopt_long
 * has already described the error). A tool calls it from the default case of its own
 * switch. Returns 0 to read on, or 1 to exit with *STATUS (0 after -h and -V, EX_USAGE
 * with the reason printed).
 */
int pmhc_cli_common_option(const char *prog, int c, const char *arg, rd_kafka_conf_t *conf,
			   const char **brokers, void (*usage)(FILE *out), int *status);

/*
 * Applies BROKERS (-b; NULL: PMHC_BROKERS from the environment; "" leaves any
 * -X bootstrap.servers alone) and, if REQUIRED, insists that some broker list is set.
 * Returns 0, or EX_USAGE with the reason printed.
 */
int pmhc_cli_set_brokers(const char *prog, rd_kafka_conf_t *conf, const char *brokers,
			 int required);

#endif
