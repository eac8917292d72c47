/*
 * The loop's side of what an operator sees: metrics.c fed from the loop's
 * counters and the writer's view, the HTTP endpoints started and stopped, and
 * systemd told how the loop is doing (notify.c). Each entry is cheap when
 * http.listen is unset: then nothing but the watchdog runs.
 */
#ifndef PMHC_OBSERVE_H
#define PMHC_OBSERVE_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"

struct pipeline;

/* The metrics and, with http.listen, the endpoints; 0, or -1 with err filled. */
int pmhc_observe_open(struct pipeline *p, char *err, size_t errlen);

/* Once per pass of the loop: publishes the loop's view a few times a second, pings the watchdog. */
void pmhc_observe_step(struct pipeline *p);

/* Publishes now, whatever the time since the last (a stop, a state that changed). */
void pmhc_observe_publish(struct pipeline *p);

/* librdkafka's stats_cb for the consumer: its statistics, for the consumer lag and the broker states. */
int pmhc_observe_kafka_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);

/* NULL when http.listen is unset: the consumer then needs no statistics. */
pmhc_kafka_stats_cb pmhc_observe_stats_cb(const struct pipeline *p);

void pmhc_observe_close(struct pipeline *p);

#endif
