#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "clock.h"
#include "pmhc.pb-c.h"
#include "pmhc_build.h"
#include "rules.h"

#define MS_PER_S 1000.0

/*
 * Kafka's statistics come every stats interval from the loop's poll. Three
 * missed in a row, and a second's slack, mean the loop or the client is stuck:
 * the broker state they carry is then too old to call Kafka connected.
 */
#define KAFKA_STATS_MISSED 3
#define KAFKA_STATS_SLACK_MS 1000

/*
 * The loop publishes several times a second while it runs, also while it
 * drains for a rebalance (bounded by limits.shutdown_timeout). Silent for 30 s,
 * it is stuck: unhealthy, and systemd's watchdog is about to say so too.
 */
#define LOOP_SILENT_MS 30000

/* One line of the exposition: a metric with its labels and value fits. */
#define LINE_LEN 512

/*
 * Batch write latency, in seconds: a live batch commits in a few milliseconds,
 * a backfill batch of thousands of rows in a second or two; past 10 s it is a
 * lock or a struggling server, which the top bucket and the sum show.
 */
static const double bucket_le[PMHC_METRICS_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

void pmhc_metrics_init(struct pmhc_metrics *m, int stats_interval_ms)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
	m->kafka_stats_interval_ms = stats_interval_ms;
	m->started_wall_ms = pmhc_wall_ms();
	m->published_ms = pmhc_mono_ms();
}

void pmhc_metrics_destroy(struct pmhc_metrics *m)
{
	free(m->kafka_stats);
	pthread_mutex_destroy(&m->mu);
}

void pmhc_metrics_publish(struct pmhc_metrics *m, const struct pmhc_metrics_loop *loop)
{
	pthread_mutex_lock(&m->mu);
	m->loop = *loop;
	m->published_ms = pmhc_mono_ms();
	pthread_mutex_unlock(&m->mu);
}

void pmhc_metrics_observe_write(struct pmhc_metrics *m, double seconds)
{
	if (m == NULL)
		return;
	size_t i = 0;
	while (i < PMHC_METRICS_BUCKETS && seconds > bucket_le[i])
		i++;
	pthread_mutex_lock(&m->mu);
	m->buckets[i]++;
	m->write_sum += seconds;
	pthread_mutex_unlock(&m->mu);
}

void pmhc_metrics_kafka_stats(struct pmhc_metrics *m, const char *json, size_t len)
{
	char *copy = strndup(json, len);
	if (copy == NULL)
		return; /* the last statistics stay, and go stale */
	pthread_mutex_lock(&m->mu);
	free(m->kafka_stats);
	m->kafka_stats = copy;
	m->kafka_stats_ms = pmhc_mono_ms();
	pthread_mutex_unlock(&m->mu);
}

/* ---- reading: a copy taken under the lock, the work done outside it ---- */

struct view {
	struct pmhc_metrics_loop loop;
	int64_t now, published_ms, kafka_stats_ms, started_wall_ms;
	int kafka_stats_interval_ms;
	uint64_t buckets[PMHC_METRICS_BUCKETS + 1];
	double write_sum;
	json_object *kafka; /* NULL when none came or they are stale */
};

static void view_take(struct pmhc_metrics *m, struct view *v)
{
	char *stats = NULL;
	pthread_mutex_lock(&m->mu);
	v->loop = m->loop;
	v->published_ms = m->published_ms;
	v->kafka_stats_ms = m->kafka_stats_ms;
	v->kafka_stats_interval_ms = m->kafka_stats_interval_ms;
	v->started_wall_ms = m->started_wall_ms;
	memcpy(v->buckets, m->buckets, sizeof v->buckets);
	v->write_sum = m->write_sum;
	if (m->kafka_stats != NULL)
		stats = strdup(m->kafka_stats);
	pthread_mutex_unlock(&m->mu);
	v->now = pmhc_mono_ms();
	bool fresh = stats != NULL &&
		     v->now - v->kafka_stats_ms <=
			     (int64_t)v->kafka_stats_interval_ms * KAFKA_STATS_MISSED + KAFKA_STATS_SLACK_MS;
	v->kafka = fresh ? json_tokener_parse(stats) : NULL;
	free(stats);
}

static void view_drop(struct view *v)
{
	json_object_put(v->kafka);
}

static int64_t get_int(json_object *o, const char *key, int64_t def)
{
	json_object *x;
	return json_object_object_get_ex(o, key, &x) ? json_object_get_int64(x) : def;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *x;
	return json_object_object_get_ex(o, key, &x) ? json_object_get_string(x) : "";
}

/* Whether librdkafka holds a connection to at least one real broker (not the bootstrap or logical ones). */
static bool kafka_up(const struct view *v)
{
	json_object *brokers;
	if (v->kafka == NULL || !json_object_object_get_ex(v->kafka, "brokers", &brokers))
		return false;
	json_object_object_foreach(brokers, name, b)
	{
		(void)name;
		if (get_int(b, "nodeid", -1) >= 0 && strcmp(get_str(b, "state"), "UP") == 0)
			return true;
	}
	return false;
}

/* ---- the exposition ---- */

static void put(struct pmhc_sbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct pmhc_sbuf *out, const char *fmt, ...)
{
	char line[LINE_LEN];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		out->oom = true; /* a cut line would be invalid exposition: fail the scrape instead */
	else
		pmhc_sb_put(out, line, (size_t)n);
}

/* A label value with \, " and newline escaped, as the text format wants, into buf. */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 3 < len; s++) {
		char c = *s == '\n' ? 'n' : *s;
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[o++] = '\\';
		buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

static void family(struct pmhc_sbuf *out, const char *name, const char *type, const char *help)
{
	put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct pmhc_sbuf *out, const char *name, const char *help, unsigned long value)
{
	family(out, name, "counter", help);
	put(out, "%s %lu\n", name, value);
}

static void gauge(struct pmhc_sbuf *out, const char *name, const char *help, double value)
{
	family(out, name, "gauge", help);
	put(out, "%s %.15g\n", name, value);
}

static void render_decisions(struct pmhc_sbuf *out, const struct view *v)
{
	family(out, "pmhc_decisions_total", "counter", "Calls decided, by the response recommended.");
	const ProtobufCEnumDescriptor *d = &pmhc__v1__response__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		int r = d->values[i].value;
		if (r <= 0 || r >= PMHC_METRICS_RESPONSES)
			continue;
		put(out, "pmhc_decisions_total{response=\"%s\"} %lu\n", pmhc_response_name(r), v->loop.decisions[r]);
	}
}

static void render_histogram(struct pmhc_sbuf *out, const struct view *v)
{
	const char *name = "pmhc_batch_write_seconds";
	family(out, name, "histogram", "Time to write one batch to PostgreSQL, for each batch committed.");
	uint64_t cum = 0;
	for (size_t i = 0; i < PMHC_METRICS_BUCKETS; i++) {
		cum += v->buckets[i];
		put(out, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_le[i], (unsigned long long)cum);
	}
	cum += v->buckets[PMHC_METRICS_BUCKETS];
	put(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name, (unsigned long long)cum, name,
	    v->write_sum, name, (unsigned long long)cum);
}

/* consumer_lag: the high watermark less the committed offset, for each partition this member consumes. */
static void render_lag(struct pmhc_sbuf *out, const struct view *v)
{
	family(out, "pmhc_kafka_consumer_lag", "gauge",
	       "Messages between the group's committed offset and the high watermark, per assigned partition.");
	json_object *topics;
	if (v->kafka == NULL || !json_object_object_get_ex(v->kafka, "topics", &topics))
		return;
	json_object_object_foreach(topics, tname, t)
	{
		json_object *parts;
		if (!json_object_object_get_ex(t, "partitions", &parts))
			continue;
		json_object_object_foreach(parts, pname, part)
		{
			int64_t lag = get_int(part, "consumer_lag", -1);
			if (strcmp(pname, "-1") == 0 || lag < 0 || strcmp(get_str(part, "fetch_state"), "none") == 0)
				continue;
			char tl[LINE_LEN / 2];
			put(out, "pmhc_kafka_consumer_lag{topic=\"%s\",partition=\"%s\"} %lld\n",
			    label(tname, tl, sizeof tl), pname, (long long)lag);
		}
	}
}

static void render_counters(struct pmhc_sbuf *out, const struct view *v)
{
	const struct pmhc_metrics_loop *l = &v->loop;
	counter(out, "pmhc_calls_total", "Call revisions decided (Prometheus' rate() gives calls/s).", l->calls);
	counter(out, "pmhc_mental_health_calls_total", "Of those, calls screened as mental-health calls.", l->mh);
	render_decisions(out, v);
	counter(out, "pmhc_dlq_messages_total", "Inputs sent to the DLQ (rejected, or refused by PostgreSQL).", l->dlq);
	counter(out, "pmhc_degraded_total", "Inputs repaired and routed (SPEC section 8).", l->degraded);
	counter(out, "pmhc_stale_total", "Revisions at or below one already decided or stored.", l->stale);
	counter(out, "pmhc_stored_total", "Call revisions stored in PostgreSQL.", l->stored);
	counter(out, "pmhc_recommendations_total", "Recommendations queued for Kafka.", l->recs);
	counter(out, "pmhc_recommendations_failed_total", "Recommendations Kafka did not take.", l->recs_failed);
	counter(out, "pmhc_recommendations_found_after_failure_total",
		"Of those, found on the topic after all (the broker had written them) and not sent again.",
		l->recs_landed);
	counter(out, "pmhc_dispositions_total", "Dispositions read.", l->dispositions);
	counter(out, "pmhc_unit_statuses_total", "Unit statuses applied to the roster.", l->unit_statuses);
}

static void render_gauges(struct pmhc_sbuf *out, const struct view *v, bool healthy, bool ready)
{
	const struct pmhc_metrics_loop *l = &v->loop;
	gauge(out, "pmhc_backlog_events", "Events read but not yet stored in PostgreSQL.", (double)l->backlog_events);
	gauge(out, "pmhc_backlog_max_events", "limits.backlog_max_events: where consumption pauses.",
	      (double)l->backlog_max_events);
	gauge(out, "pmhc_backlog_bytes",
	      "Memory held by the batches not yet finished (stored and delivered), in bytes.",
	      (double)l->backlog_bytes);
	gauge(out, "pmhc_backlog_max_bytes", "limits.backlog_mb in bytes: where consumption pauses.",
	      (double)l->backlog_max_bytes);
	gauge(out, "pmhc_undelivered_messages",
	      "Recommendations and dead letters Kafka has not taken, held (with their offsets) for another try.",
	      (double)l->undelivered);
	gauge(out, "pmhc_undelivered_stalled",
	      "Of those, how many failed often enough that the pipeline waits on them (see the log's hint).",
	      (double)l->undelivered_stalled);
	gauge(out, "pmhc_oldest_unstored_event_age_seconds", "Age of the oldest event not yet stored; 0 when none.",
	      l->oldest_unstored_ms ? (double)(v->now - l->oldest_unstored_ms) / MS_PER_S : 0);
	gauge(out, "pmhc_postgres_up", "1 while PostgreSQL takes the writer's batches (as of the last write).",
	      l->pg_up);
	gauge(out, "pmhc_kafka_up", "1 while librdkafka is connected to a broker (its statistics, fresh).",
	      kafka_up(v));
	gauge(out, "pmhc_consumer_paused", "1 while consumption is paused because the backlog is full.", l->paused);
	gauge(out, "pmhc_stalled_seconds", "How long an error that does not clear has held the writer; 0 when none.",
	      l->stall_since_ms ? (double)(v->now - l->stall_since_ms) / MS_PER_S : 0);
	gauge(out, "pmhc_healthy", "1 when /healthz answers 200.", healthy);
	gauge(out, "pmhc_ready", "1 when /readyz answers 200.", ready);
	gauge(out, "pmhc_start_time_seconds", "When this process started, in seconds since the epoch.",
	      (double)v->started_wall_ms / MS_PER_S);
	char rv[PMHC_METRICS_VERSION_LEN * 2];
	family(out, "pmhc_info", "gauge", "Always 1: the version of pmhcd and of the rules in force, as labels.");
	put(out, "pmhc_info{version=\"%s\",rules_version=\"%s\"} 1\n", PMHC_VERSION,
	    label(l->rules_version, rv, sizeof rv));
}

static bool healthy(const struct view *v, char *why, size_t len)
{
	if (v->loop.stall_since_ms != 0) {
		snprintf(why, len, "escalated for %lld s: %s; pmhcd exits after limits.stall_exit",
			 (long long)((v->now - v->loop.stall_since_ms) / MS_PER_S), v->loop.stall_reason);
		return false;
	}
	if (v->now - v->published_ms > LOOP_SILENT_MS) {
		snprintf(why, len, "the main loop has not run for %lld s",
			 (long long)((v->now - v->published_ms) / 1000));
		return false;
	}
	snprintf(why, len, "ok");
	return true;
}

static bool ready(const struct view *v, char *why, size_t len)
{
	if (!healthy(v, why, len))
		return false;
	const struct pmhc_metrics_loop *l = &v->loop;
	const char *no = l->stopping    ? "stopping"
			 : !l->pg_up    ? "PostgreSQL down: writes failing, retried"
			 : !kafka_up(v) ? "Kafka: no broker connected"
			 : !l->assigned ? "not yet in the consumer group"
			 : l->paused    ? "consumption paused: the backlog is full until PostgreSQL catches up"
					: NULL;
	snprintf(why, len, "%s", no ? no : "ready");
	return no == NULL;
}

bool pmhc_metrics_render(struct pmhc_metrics *m, struct pmhc_sbuf *out)
{
	struct view v;
	view_take(m, &v);
	char why[PMHC_METRICS_REASON_LEN * 2];
	bool h = healthy(&v, why, sizeof why), r = ready(&v, why, sizeof why);
	render_counters(out, &v);
	render_histogram(out, &v);
	render_gauges(out, &v, h, r);
	render_lag(out, &v);
	view_drop(&v);
	return !out->oom;
}

bool pmhc_metrics_healthy(struct pmhc_metrics *m, char *why, size_t len)
{
	struct view v;
	view_take(m, &v);
	bool ok = healthy(&v, why, len);
	view_drop(&v);
	return ok;
}

bool pmhc_metrics_ready(struct pmhc_metrics *m, char *why, size_t len)
{
	struct view v;
	view_take(m, &v);
	bool ok = ready(&v, why, len);
	view_drop(&v);
	return ok;
}
