/*
 * cli — the command-line plumbing pmhc-produce, pmhc-consume and pmhc-watch share, so
 * that the tools word their errors, their -X handling and their broker checks the same
 * way, and the two readers find and assign partitions the same way.
 *
 * PROG is the tool's name; every message it prints starts with "PROG: ".
 */
#ifndef PMHC_CLI_H
#define PMHC_CLI_H

#include <signal.h>
#include <stdint.h>
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
int pmhc_cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
int pmhc_cli_set_property(const char *prog, rd_kafka_conf_t *conf, const char *name, const char *value);

/* Sets one -X NAME=VALUE; -1 (message printed) if it is malformed or refused. */
int pmhc_cli_set_x_property(const char *prog, rd_kafka_conf_t *conf, const char *arg);

/*
 * Handles what getopt_long returned for an option every tool takes: -b LIST (stored in
 * *BROKERS), -X NAME=VALUE (set on CONF), -h (USAGE on stdout), -V, and '?' (getopt_long
 * has already described the error). A tool calls it from the default case of its own
 * switch. Returns 0 to read on, or 1 to exit with *STATUS (0 after -h and -V, EX_USAGE
 * with the reason printed).
 */
int pmhc_cli_common_option(const char *prog, int c, const char *arg, rd_kafka_conf_t *conf, const char **brokers,
			   void (*usage)(FILE *out), int *status);

/*
 * Applies BROKERS (-b; NULL: PMHC_BROKERS from the environment; "" leaves any
 * -X bootstrap.servers alone) and, if REQUIRED, insists that some broker list is set.
 * Returns 0, or EX_USAGE with the reason printed.
 */
int pmhc_cli_set_brokers(const char *prog, rd_kafka_conf_t *conf, const char *brokers, int required);

/* How long a metadata or offset request to the brokers may take. */
#define PMHC_CLI_METADATA_TIMEOUT_MS 10000

/* S as a whole decimal number of at least MIN into *OUT; -1 (nothing printed) if it is not. */
int pmhc_cli_parse_long(const char *s, long min, long *out);

/*
 * Creates the consumer *RK from *CONF, which it then owns (*CONF set to NULL), with the
 * consumer queue serving rd_kafka_poll too, and then catches the stop signals as
 * pmhc_cli_catch_stop_signals does. Returns 0, or EX_USAGE with the reason printed
 * (*CONF still the caller's).
 */
int pmhc_cli_start_consumer(const char *prog, rd_kafka_conf_t **conf, rd_kafka_t **rk);

/* Destroys whichever of RK and CONF the tool still holds (NULL for none). */
void pmhc_cli_free_kafka(rd_kafka_t *rk, rd_kafka_conf_t *conf);

/*
 * The partition ids of TOPIC into *IDS (malloc'd) and their number into *N; -1 if the
 * topic cannot be read (the reason printed) or memory runs out (nothing printed).
 */
int pmhc_cli_topic_partitions(const char *prog, rd_kafka_t *rk, const char *topic, int32_t **ids, int *n);

/*
 * Adds every partition of TOPIC to LIST, from the beginning or from its end (queried
 * now, so that nothing produced after this returns is missed), and their number into
 * *N; -1 if a partition's end cannot be read (the reason printed) or as for
 * pmhc_cli_topic_partitions.
 */
int pmhc_cli_add_partitions(const char *prog, rd_kafka_t *rk, const char *topic, int from_beginning,
			    rd_kafka_topic_partition_list_t *list, int *n);

#endif
