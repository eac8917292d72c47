#include "observe.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "notify.h"
#include "pipeline_int.h"
#include "redeliver.h"

/* How often the loop's view is copied for the HTTP thread: fresher than any scrape needs. */
#define PUBLISH_EVERY_MS 250

int pmhc_observe_open(struct pipeline *p, char *err, size_t errlen)
{
	if (p->cfg->http_listen == NULL)
		return 0;
	p->metrics = malloc(sizeof *p->metrics);
	if (p->metrics == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pmhc_metrics_init(p->metrics, PMHC_KAFKA_STATS_MS);
	p->w.metrics = p->metrics;
	pmhc_observe_publish(p);
	p->http = pmhc_http_start(p->cfg->http_listen, p->metrics, err, errlen);
	if (p->http == NULL)
		return -1;
	pmhc_info("msg=\"serving /metrics, /healthz and /readyz\" listen=%s", p->cfg->http_listen);
	return 0;
}

pmhc_kafka_stats_cb pmhc_observe_stats_cb(const struct pipeline *p)
{
	return p->metrics ? pmhc_observe_kafka_stats : NULL;
}

int pmhc_observe_kafka_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
	(void)rk;
	struct pipeline *p = opaque;
	if (p->metrics != NULL)
		pmhc_metrics_kafka_stats(p->metrics, json, len);
	return 0; /* librdkafka frees json */
}

void pmhc_observe_publish(struct pipeline *p)
{
	if (p->metrics == NULL)
		return;
	struct pmhc_writer_view w;
	pmhc_writer_view(&p->w, &w);
	/* The backlog as pace() counts it against the limits: batches waiting for deliveries too. */
	size_t held_events, held_bytes, stalled;
	pmhc_writer_held(&p->w, &held_events, &held_bytes);
	size_t undelivered = pmhc_redeliver_count(p, &stalled);
	const struct pipeline_stats *st = &p->st;
	struct pmhc_metrics_loop l = {
		.calls = st->calls,
		.mh = st->mh,
		.dlq = st->rejected,
		.degraded = st->degraded,
		.stale = st->stale,
		.stored = st->written,
		.recs = st->recs,
		.recs_failed = st->recs_failed,
		.recs_landed = st->recs_landed,
		.dispositions = st->dispositions,
		.unit_statuses = st->unit_statuses,
		.backlog_events = held_events,
		.backlog_bytes = held_bytes,
		.backlog_max_events = (size_t)p->cfg->backlog_max_events,
		.backlog_max_bytes = (size_t)p->cfg->backlog_mb * 1024 * 1024,
		.undelivered = undelivered,
		.undelivered_stalled = stalled,
		.oldest_unstored_ms = w.oldest_ms  ? w.oldest_ms
				      : p->current ? p->current->opened_ms
						   : 0,
		.stall_since_ms = w.stall_since_ms,
		.pg_up = !w.db_down,
		.paused = p->paused,
		.assigned = p->assigned,
		.stopping = p->stop_deadline_ms != 0,
	};
	memcpy(l.decisions, st->by_response, sizeof l.decisions);
	memcpy(l.stall_reason, w.stall_reason, sizeof l.stall_reason);
	snprintf(l.rules_version, sizeof l.rules_version, "%s", p->cfg->rules->version);
	pmhc_metrics_publish(p->metrics, &l);
	p->last_publish_ms = pmhc_mono_ms();
}

void pmhc_observe_step(struct pipeline *p)
{
	int64_t now = pmhc_mono_ms();
	pmhc_notify_watchdog(now);
	if (p->metrics != NULL && now - p->last_publish_ms >= PUBLISH_EVERY_MS)
		pmhc_observe_publish(p);
}

void pmhc_observe_close(struct pipeline *p)
{
	pmhc_http_stop(p->http);
	p->http = NULL;
	/* An orphaned writer thread may still time a write into the metrics: they go with the process. */
	if (p->metrics != NULL && !p->w.orphaned) {
		pmhc_metrics_destroy(p->metrics);
		free(p->metrics);
	}
	p->metrics = NULL;
}
