/*
 * What an operator sees: the loop's counters and gauges, the writer's batch
 * latencies, Kafka's own statistics, and from them /metrics (the Prometheus
 * text format), /healthz and /readyz. The main loop and the writer thread
 * write; the HTTP thread reads. Everything goes through one mutex, taken a few
 * times a second by the loop and once per batch by the writer: never per call.
 */
#ifndef PMHC_METRICS_H
#define PMHC_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgtext.h"

/* Room for every value of the Response enum (pmhc.proto has 10). */
#define PMHC_METRICS_RESPONSES 16
/* Room for rules_version and for the reason an escalation gives. */
#define PMHC_METRICS_VERSION_LEN 128
#define PMHC_METRICS_REASON_LEN 256
/* Batch write latency buckets, in seconds, +Inf aside. */
#define PMHC_METRICS_BUCKETS 11

/* What the main loop publishes, as one value. */
struct pmhc_metrics_loop {
	unsigned long calls, mh, dlq, degraded, stale, stored, recs, recs_failed, recs_landed, dispositions,
		unit_statuses;
	unsigned long decisions[PMHC_METRICS_RESPONSES];
	size_t backlog_events, backlog_bytes, backlog_max_events, backlog_max_bytes;
	size_t undelivered, undelivered_stalled; /* Kafka messages held for another try, and how many stall */
	int64_t oldest_unstored_ms; /* CLOCK_MONOTONIC of the oldest event not yet in PostgreSQL; 0 when none */
	int64_t stall_since_ms;     /* CLOCK_MONOTONIC since an error that does not clear; 0 when none */
	char stall_reason[PMHC_METRICS_REASON_LEN];
	bool pg_up, paused, assigned, stopping;
	char rules_version[PMHC_METRICS_VERSION_LEN];
};

struct pmhc_metrics {
	pthread_mutex_t mu;
	struct pmhc_metrics_loop loop;
	int64_t published_ms; /* when the loop last published: a loop that stops publishing is not ready */
	uint64_t buckets[PMHC_METRICS_BUCKETS + 1];
	double write_sum;
	char *kafka_stats; /* librdkafka's latest statistics JSON, owned */
	int64_t kafka_stats_ms;
	int kafka_stats_interval_ms;
	int64_t started_wall_ms;
};

/* Ready for use; stats_interval_ms is how often Kafka's statistics come, to tell when they are stale. */
void pmhc_metrics_init(struct pmhc_metrics *m, int stats_interval_ms);
void pmhc_metrics_destroy(struct pmhc_metrics *m);

/* Main thread: the loop's view, copied. */
void pmhc_metrics_publish(struct pmhc_metrics *m, const struct pmhc_metrics_loop *loop);

/* Writer thread: one batch committed in seconds. m may be NULL. */
void pmhc_metrics_observe_write(struct pmhc_metrics *m, double seconds);

/* Main thread (librdkafka's stats_cb): its statistics JSON, copied. */
void pmhc_metrics_kafka_stats(struct pmhc_metrics *m, const char *json, size_t len);

/* HTTP thread: the Prometheus text exposition (format 0.0.4) into out; false when out of memory. */
bool pmhc_metrics_render(struct pmhc_metrics *m, struct pmhc_sbuf *out);

/* HTTP thread: true when healthy, else false with a one-line reason. */
bool pmhc_metrics_healthy(struct pmhc_metrics *m, char *why, size_t len);

/* HTTP thread: true when connected to both servers and consuming, else false with a one-line reason. */
bool pmhc_metrics_ready(struct pmhc_metrics *m, char *why, size_t len);

#endif
