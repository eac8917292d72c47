/*
 * The configuration file (libconfig) → one immutable, validated value.
 * A reload builds a whole new value and swaps it in only when it is valid.
 */
#ifndef PMHC_CONFIG_H
#define PMHC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "errlist.h"
#include "rules.h"

struct pmhc_config {
	char *path;

	char *kafka_brokers;
	char *kafka_group_id;
	bool share_holds;        /* learn the other instances' unit holds from their recommendations */
	char **kafka_properties; /* "name=value", already checked */
	size_t n_kafka_properties;

	char *pg_conninfo;
	int pg_start_timeout_s;

	char *topic_calls, *topic_units, *topic_dispositions;
	char *topic_recommendations, *topic_dlq, *topic_history;

	char *subject_key_file;
	unsigned char *subject_key; /* the secret, never logged */
	size_t subject_key_len;
	bool store_narrative;

	int batch_max_events;
	int batch_max_ms;
	int max_message_bytes;
	int backlog_max_events;
	int backlog_mb; /* the backlog's memory, in MiB, past which consumption pauses */
	int shutdown_timeout_s;
	int stall_exit_s; /* how long an error that does not clear may hold the writer before pmhcd exits */

	char *http_listen; /* "HOST:PORT" of /metrics, /healthz and /readyz; NULL when off */

	char *log_level;

	struct pmhc_rules *rules;
};

enum {
	/* Skip reading privacy.subject_key_file: for tools that only need the rules. */
	PMHC_CONFIG_NO_SECRETS = 1 << 0,
};

/*
 * libconfig's config_read_file, with @include "FILE" read relative to PATH's own
 * directory (as an operator expects of "@include \"apco-2.103.2.conf\"" beside
 * pmhcd.conf), not the working directory. Returns what config_read_file returns.
 */
int pmhc_config_read_file(config_t *cf, const char *path);

/* NULL when anything is wrong; errs then holds every problem found. */
struct pmhc_config *pmhc_config_load(const char *path, unsigned flags, struct pmhc_errlist *errs);

void pmhc_config_free(struct pmhc_config *cfg);

/*
 * Names of the settings that differ between a and b but only take effect on a
 * restart (connections, topics, group), comma-separated into buf; 0 when none.
 */
size_t pmhc_config_restart_needed(const struct pmhc_config *a, const struct pmhc_config *b, char *buf, size_t len);

/* librdkafka properties pmhcd sets itself and refuses from kafka.properties. */
bool pmhc_config_kafka_property_owned(const char *name);

#endif
