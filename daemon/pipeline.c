/*
 * The loop: open, step until stopped, close. Each step takes what has arrived
 * (intake.c, which hands recommendations and rejects to outbox.c), seals the
 * batch when it is full or old enough (batch.c) for the writer thread
 * (writer.c), reaps the batches written, and paces the consumer by the writer's
 * backlog. backfill.c holds what the backfill mode does differently.
 */
#include "pipeline.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "backfill.h"
#include "clock.h"
#include "intake.h"
#include "kafka.h"
#include "log.h"
#include "notify.h"
#include "observe.h"
#include "outbox.h"
#include "pipeline_int.h"
#include "repeats.h"
#include "revcache.h"
#include "units.h"

/* A line of counters every minute: often enough to see a trend, rarely enough to read. */
#define STATS_EVERY_MS 60000

/*
 * A backlog (an outage, a burst) holds its batches in memory until written;
 * freed, that memory stays with malloc unless handed back. Once a large one is
 * written, it goes back to the system, so the daemon's size after the night's
 * outage is its size before it.
 */
#define TRIM_AFTER_BACKLOG 10000

/*
 * Paused at limits.backlog_max_events, consumption resumes once the backlog is
 * down to half of it: a gap wide enough that it does not pause and resume at
 * every batch written.
 */
#define RESUME_DIVISOR 2
/*
 * A backfill is PostgreSQL's pace by design, paused and resumed every second
 * or two. A pause drops what librdkafka had fetched, and refetching it took
 * 0.1-0.5 s, which PostgreSQL sat out when only two batches were left to
 * write (4.2 s of a 40 s backfill of 1,000,000 calls). It resumes with three
 * quarters left: about a second of PostgreSQL's work to cover the refetch.
 */
#define BACKFILL_RESUME_PERCENT 75

/* 2^20 calls: a day or more of a large center, 12 MB. */
#define REVCACHE_CALLS (1u << 20)
/*
 * Backfill remembers the times of at most this many MH calls for its first
 * guess at repeat flags: 8 bytes each, so at most 64 MiB. Past it the rest are
 * guessed unset, and the final pass sets them.
 */
#define BACKFILL_REPEAT_CALLS (1u << 23)

/* Unit statuses applied per step at most, so a burst of them never starves calls. */
#define UNITS_PER_STEP 1000

/* How long a step waits for a call: short, so unit statuses and written batches are seen soon. */
#define POLL_WAIT_MS 10

/* While draining, how long to wait for delivery reports between looks at the writer. */
#define DRAIN_POLL_MS 20

/* Room for the names of the settings a reload cannot apply. */
#define CHANGED_LEN 512

/* Room for the partitions of a rebalance in the log: dozens of them; more are cut with "...". */
#define PARTITION_LIST_LEN 1024

/*
 * A stop keeps this much of limits.shutdown_timeout (a quarter of it at most)
 * for what follows the drain: joining the writer, committing the offsets,
 * leaving the group and flushing the producer.
 */
#define STOP_RESERVE_MS 1000

/* ---- the batch being filled ---- */

struct pmhc_batch *pmhc_pipeline_batch(struct pipeline *p)
{
	if (p->current == NULL && (p->current = pmhc_batch_new(p->cfg)) == NULL)
		pmhc_error("msg=\"out of memory opening a batch\"");
	return p->current;
}

void pmhc_pipeline_seal(struct pipeline *p)
{
	if (p->current != NULL && pmhc_batch_size(p->current) > 0) {
		pmhc_writer_submit(&p->w, p->current);
		p->current = NULL;
	}
}

static void seal_when_due(struct pipeline *p)
{
	struct pmhc_batch *b = p->current;
	if (b != NULL && pmhc_batch_size(b) > 0 &&
	    (pmhc_batch_size(b) >= pmhc_backfill_batch_events(p) ||
	     pmhc_mono_ms() - b->opened_ms >= pmhc_backfill_batch_ms(p)))
		pmhc_pipeline_seal(p);
}

/* ---- completing batches: offsets move only past what is durable ---- */

/* A batch written and delivered: its offsets are stored and it is counted and freed. */
static void finish(struct pipeline *p, struct pmhc_batch *b)
{
	pmhc_batch_store_offsets(b, p->consumer);
	p->st.written += b->result.applied;
	p->st.stale += b->result.stale;
	if (b->result.stale)
		pmhc_info("msg=\"stale revisions ignored\" count=%zu", b->result.stale);
	pmhc_batch_free(b);
}

/* Finishes written batches in order, as far as their messages are delivered. */
static void reap(struct pipeline *p)
{
	rd_kafka_poll(p->producer, 0);
	pmhc_redeliver_tick(p);
	struct pmhc_batch *b;
	while ((b = pmhc_writer_done_peek(&p->w)) != NULL) {
		if (b->n_poison > 0 && !b->poison_sent) {
			pmhc_outbox_send_poison(p, b);
			continue;
		}
		if (b->undelivered > 0)
			return;
		pmhc_writer_done_pop(&p->w);
		finish(p, b);
	}
}

static void trim_after_backlog(struct pipeline *p)
{
	/* Backfill is all backlog: trimming after each batch would only make the next fault it back in. */
	if (p->mode == PMHC_MODE_BACKFILL || p->backlog_peak < TRIM_AFTER_BACKLOG || !pmhc_writer_idle(&p->w))
		return;
	p->backlog_peak = 0;
	malloc_trim(0);
}

/*
 * Seals and waits until every batch is durable and reaped, or timeout_ms
 * passes; during a stop, never past its deadline, also when a revoke during
 * the consumer's close asks for a drain of its own.
 */
static bool drain(struct pipeline *p, int64_t timeout_ms)
{
	pmhc_pipeline_seal(p);
	int64_t until = pmhc_mono_ms() + timeout_ms;
	if (p->drain_deadline_ms != 0 && until > p->drain_deadline_ms)
		until = p->drain_deadline_ms;
	for (;;) {
		pmhc_observe_step(p);
		reap(p);
		if (pmhc_writer_idle(&p->w))
			return true;
		if (pmhc_mono_ms() >= until)
			return false;
		rd_kafka_poll(p->producer, DRAIN_POLL_MS);
	}
}

static int64_t shutdown_ms(const struct pipeline *p)
{
	return (int64_t)p->cfg->shutdown_timeout_s * MS_PER_S;
}

/* Pauses or resumes every partition assigned to rk. */
static void pause_client(rd_kafka_t *rk, bool pause)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	if (rk != NULL && rd_kafka_assignment(rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (pause)
			rd_kafka_pause_partitions(rk, a);
		else
			rd_kafka_resume_partitions(rk, a);
		rd_kafka_topic_partition_list_destroy(a);
	}
}

/* The group's partitions and cad.units alike: a unit status is backlog too. */
static void pause_consumer(struct pipeline *p, bool pause)
{
	pause_client(p->consumer, pause);
	pause_client(p->units_reader, pause);
	p->paused = pause;
}

#define BYTES_PER_MB (1024 * 1024)

/*
 * Backpressure: past either backlog bound, stop reading until the database
 * catches up. The backlog is every batch not yet done with, the one being
 * filled, those waiting for PostgreSQL and those waiting for their deliveries,
 * every kind of event counted, in events and in bytes.
 */
static void pace(struct pipeline *p)
{
	size_t events, bytes;
	pmhc_writer_held(&p->w, &events, &bytes);
	if (p->current != NULL) {
		events += pmhc_batch_size(p->current);
		bytes += pmhc_batch_bytes(p->current);
	}
	if (events > p->backlog_peak)
		p->backlog_peak = events;
	size_t max_events = (size_t)p->cfg->backlog_max_events, max_bytes = (size_t)p->cfg->backlog_mb * BYTES_PER_MB;
	bool over = events >= max_events || bytes >= max_bytes;
	bool backfill = p->mode == PMHC_MODE_BACKFILL;
	size_t resume_events = backfill ? max_events / 100 * BACKFILL_RESUME_PERCENT : max_events / RESUME_DIVISOR;
	size_t resume_bytes = backfill ? max_bytes / 100 * BACKFILL_RESUME_PERCENT : max_bytes / RESUME_DIVISOR;
	bool under = events <= resume_events && bytes <= resume_bytes;
	if (!p->paused && over) {
		pause_consumer(p, true);
		/* A backfill goes at PostgreSQL's pace by design: only live, a full backlog is news. */
		pmhc_log_at(backfill ? PMHC_LOG_INFO : PMHC_LOG_WARN, __FILE__, __LINE__,
			    "msg=\"backlog full; consumption paused until PostgreSQL catches up\" backlog_events=%zu "
			    "backlog_bytes=%zu",
			    events, bytes);
	} else if (p->paused && under) {
		pause_consumer(p, false);
		pmhc_info("msg=\"consumption resumed\" backlog_events=%zu backlog_bytes=%zu", events, bytes);
	}
}

/* "cad.calls/0,cad.calls/3,..." into buf, cut with "..." when it does not fit: who owns what, for the log. */
static const char *partition_list(const rd_kafka_topic_partition_list_t *parts, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < parts->cnt; i++) {
		int n = snprintf(buf + used, len - used, "%s%s/%d", i ? "," : "", parts->elems[i].topic,
				 (int)parts->elems[i].partition);
		if (n < 0 || (size_t)n >= len - used) {
			snprintf(buf + (used < len - 4 ? used : len - 4), 4, "...");
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct pipeline *p = opaque;
	bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		char list[PARTITION_LIST_LEN];
		pmhc_info("msg=\"partitions assigned\" count=%d partitions=%s", parts->cnt,
			  partition_list(parts, list, sizeof list));
		pmhc_backfill_assigned(p, parts);
		p->assigned = true;
		if (coop)
			rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
		if (p->paused) {
			rd_kafka_pause_partitions(rk, parts);
		}
		return;
	}
	pmhc_backfill_revoked(p);
	/* Revoked: finish what we hold for these partitions and commit, so the next owner resumes after it. */
	bool done = drain(p, shutdown_ms(p));
	rd_kafka_resp_err_t e = rd_kafka_commit(rk, NULL, 0);
	char list[PARTITION_LIST_LEN];
	pmhc_info("msg=\"partitions revoked\" count=%d partitions=%s drained=%s commit=\"%s\"", parts->cnt,
		  partition_list(parts, list, sizeof list), done ? "yes" : "no (the next owner replays the rest)",
		  e == RD_KAFKA_RESP_ERR__NO_OFFSET ? "nothing new" : rd_kafka_err2str(e));
	if (coop)
		rd_kafka_incremental_unassign(rk, parts);
	else
		rd_kafka_assign(rk, NULL);
}

/* ---- the operator's view: stats and reload ---- */

static void log_stats(struct pipeline *p, const char *why)
{
	bool down;
	size_t backlog = pmhc_writer_backlog(&p->w, &down), held_events, held_bytes, stalled;
	pmhc_writer_held(&p->w, &held_events, &held_bytes);
	size_t undelivered = pmhc_redeliver_count(p, &stalled);
	unsigned long learned, read;
	pmhc_holds_counts(p->holds, &learned, &read);
	pmhc_info(
		"msg=\"%s\" calls=%lu mh=%lu rejected=%lu dlq_resent=%lu degraded=%lu stale=%lu "
		"stale_skipped_in_memory=%lu stored=%lu recommendations=%lu recommendations_failed=%lu "
		"recommendations_found_after_failure=%lu "
		"fallbacks=%lu unknown_nature_codes=%lu dispositions=%lu units=%zu unit_statuses=%lu unit_statuses_out_of_order=%lu "
		"unit_statuses_rejected=%lu holds_learned=%lu recommendations_read=%lu backlog_events=%zu "
		"backlog_bytes=%zu undelivered=%zu stalled=%zu db=%s paused=%s",
		why, p->st.calls, p->st.mh, p->st.rejected, p->st.dlq_resent, p->st.degraded, p->st.stale,
		p->st.stale_skipped, p->st.written, p->st.recs, p->st.recs_failed, p->st.recs_landed, p->st.fallbacks,
		p->st.unknown_nature, p->st.dispositions, pmhc_roster_size(p->roster), p->st.unit_statuses,
		p->st.units_out_of_order, p->st.units_rejected, learned, read, backlog, held_bytes, undelivered,
		stalled, down ? "down" : "up", p->paused ? "yes" : "no");
}

static void log_stats_when_due(struct pipeline *p)
{
	if (pmhc_mono_ms() - p->last_stats_ms >= STATS_EVERY_MS) {
		log_stats(p, "stats");
		p->last_stats_ms = pmhc_mono_ms();
	}
}

static void reload(struct pipeline *p)
{
	pmhc_notify_reloading();
	struct pmhc_errlist errs = { 0 };
	struct pmhc_config *next = pmhc_config_load(p->cfg->path, 0, &errs);
	if (next == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			pmhc_error("msg=\"config refused on reload\" problem=\"%s\"", pmhc_q(errs.lines[i]));
		pmhc_error("msg=\"reload refused; keeping the running configuration\" rules_version=%s",
			   p->cfg->rules->version);
		pmhc_errlist_clear(&errs);
		pmhc_notify_ready("reload refused; the running configuration stays in force");
		return;
	}
	/*
	 * A restart-only setting cannot take effect half-way: a new subject key would
	 * re-pseudonymize everyone from this moment (repeat encounters miscounted), and
	 * the topics and narrative storage are bound at start. So the reload is refused
	 * as a whole and the running configuration, rules included, stays.
	 */
	char changed[CHANGED_LEN];
	if (pmhc_config_restart_needed(p->cfg, next, changed, sizeof changed) > 0) {
		pmhc_error("msg=\"reload refused: these settings take effect only after a restart; "
			   "keeping the running configuration\" settings=%s rules_version=%s",
			   changed, p->cfg->rules->version);
		pmhc_config_free(next);
		pmhc_notify_ready("reload refused; the running configuration stays in force");
		return;
	}
	enum pmhc_log_level lvl;
	if (pmhc_log_level_parse(next->log_level, &lvl) == 0)
		pmhc_log_set_level(lvl);
	pmhc_info("msg=\"configuration reloaded\" rules_version=%s previous=%s", next->rules->version,
		  p->cfg->rules->version);
	/* Batches copied what they need from the old config: it can go now. */
	pmhc_config_free(p->cfg);
	p->cfg = next;
	pmhc_notify_ready("configuration reloaded");
}

/* ---- open ---- */

/* PostgreSQL, with the schema this pmhcd was built for (pmhcd --migrate makes it), as the writer's connection. */
static bool open_store(struct pipeline *p, int *rc)
{
	const struct pmhc_config *cfg = p->cfg;
	pmhc_writer_init(&p->w, p->mode == PMHC_MODE_BACKFILL);
	p->w.store = pmhc_store_open(cfg->pg_conninfo, cfg->pg_start_timeout_s, &p->sig->stop);
	if (p->w.store == NULL) {
		*rc = p->sig->stop ? EX_OK : EX_UNAVAILABLE;
		return false;
	}
	int schema = pmhc_store_check_schema(p->w.store);
	if (schema != EX_OK) {
		*rc = schema;
		return false;
	}
	if (p->mode == PMHC_MODE_BACKFILL) {
		pmhc_store_defer_derived(p->w.store);
		/* Without it every flag is guessed unset, and the final pass sets them all: slower, as right. */
		p->repeats = pmhc_repeats_new(BACKFILL_REPEAT_CALLS);
		if (p->repeats != NULL && pmhc_store_repeat_rules(p->w.store, p->repeats) != 0)
			pmhc_warn("msg=\"repeat rules not read; the final pass sets every repeat flag\" error=\"%s\"",
				  pmhc_q(pmhc_store_last_error(p->w.store)));
	}
	return true;
}

/* The other instances' unit holds, from what they recommended within the hold time. */
static bool open_holds(struct pipeline *p, int *rc)
{
	const struct pmhc_config *cfg = p->cfg;
	char err[PMHC_ERR_LEN];
	if (!cfg->share_holds) {
		pmhc_info("msg=\"unit holds are not shared (kafka.share_holds = false): run one instance only\"");
		return true;
	}
	p->holds = pmhc_holds_open(cfg, p->instance, cfg->pg_start_timeout_s * MS_PER_S, err, sizeof err);
	if (p->holds == NULL) {
		pmhc_error("msg=\"Kafka unreachable at start\" error=\"%s\" hint=\"check that %s exists\"", err,
			   cfg->topic_recommendations);
		*rc = EX_UNAVAILABLE;
		return false;
	}
	/* What the others held when this instance started, before it decides anything. */
	while (pmhc_holds_apply(p->holds, p->roster, UNITS_PER_STEP) > 0)
		;
	return true;
}

/* What decisions remember: the revisions decided, and (live) the roster rebuilt from cad.units. */
static bool open_memory(struct pipeline *p, int *rc)
{
	const struct pmhc_config *cfg = p->cfg;
	char err[PMHC_ERR_LEN];
	p->revisions = pmhc_revcache_new(REVCACHE_CALLS);
	p->roster = p->revisions ? pmhc_roster_new() : NULL;
	/* Backfill chooses no units: no roster to read. */
	if (p->mode != PMHC_MODE_LIVE) {
		if (p->roster != NULL)
			return true;
		pmhc_error("msg=\"out of memory at start\" hint=\"the revision cache needs 12 MiB\"");
		*rc = EX_UNAVAILABLE; /* as a live start without memory */
		return false;
	}
	int wait_ms = cfg->pg_start_timeout_s * MS_PER_S;
	p->units_reader = p->roster ? pmhc_kafka_reader_new(cfg, cfg->topic_units, PMHC_KAFKA_FROM_BEGINNING, 0,
							    wait_ms, err, sizeof err)
				    : NULL;
	if (p->units_reader == NULL) {
		pmhc_error(
			"msg=\"Kafka unreachable at start\" error=\"%s\" hint=\"check kafka.brokers and that %s exists\"",
			p->roster ? err : "out of memory", cfg->topic_units);
		*rc = EX_UNAVAILABLE;
		return false;
	}
	if (pmhc_intake_rebuild_roster(p) != 0) {
		*rc = EX_UNAVAILABLE;
		return false;
	}
	return open_holds(p, rc);
}

/* The producer, the consumer in its group subscribed to the mode's topics, and the writer thread. */
static bool open_kafka(struct pipeline *p, int *rc)
{
	const struct pmhc_config *cfg = p->cfg;
	bool live = p->mode == PMHC_MODE_LIVE;
	char err[PMHC_ERR_LEN];
	/* Backfill reads history in a group of its own, so it never takes live partitions. */
	char *group = p->group;
	snprintf(group, sizeof p->group, "%s%s", cfg->kafka_group_id, live ? "" : "-backfill");
	if (pmhc_outbox_open(p, err, sizeof err) != 0 ||
	    (p->consumer = pmhc_kafka_consumer_new(cfg, group, !live, rebalance_cb, pmhc_observe_stats_cb(p), p, err,
						   sizeof err)) == NULL) {
		pmhc_error("msg=\"%s\"", err);
		*rc = EX_CONFIG;
		return false;
	}
	/* One group for both: a call and its disposition, keyed alike, meet on one instance. */
	const char *live_topics[] = { cfg->topic_calls, cfg->topic_dispositions };
	const char *history_topics[] = { cfg->topic_history };
	size_t n_live = sizeof live_topics / sizeof *live_topics;
	size_t n_history = sizeof history_topics / sizeof *history_topics;
	if (pmhc_kafka_subscribe(p->consumer, live ? live_topics : history_topics, live ? n_live : n_history, err,
				 sizeof err) != 0) {
		pmhc_error("msg=\"%s\"", err);
		return false;
	}
	int e = pmhc_writer_start(&p->w);
	if (e != 0) {
		pmhc_error("msg=\"cannot start the writer thread\" error=\"%s\"", strerror(e));
		return false;
	}
	pmhc_notify_ready(live ? "consuming" : "backfilling");
	if (live)
		pmhc_info("msg=\"pmhcd running\" group=%s calls_topic=%s recommendations_topic=%s rules_version=%s",
			  group, cfg->topic_calls, cfg->topic_recommendations, cfg->rules->version);
	else
		pmhc_info("msg=\"backfill running\" group=%s history_topic=%s rules_version=%s", group,
			  cfg->topic_history, cfg->rules->version);
	return true;
}

/* The endpoints of /metrics, /healthz and /readyz, when http.listen is set. */
static bool open_observe(struct pipeline *p, int *rc)
{
	char err[PMHC_ERR_LEN];
	if (pmhc_observe_open(p, err, sizeof err) != 0) {
		pmhc_error("msg=\"%s\"", err);
		*rc = EX_UNAVAILABLE;
		return false;
	}
	return true;
}

/* ---- step ---- */

/*
 * An error that does not clear has held the writer for limits.stall_exit:
 * exit, so that systemd restarts pmhcd and the operator is paged. Nothing
 * unstored has had its offset stored, so nothing is lost.
 */
static bool stalled_too_long(struct pipeline *p)
{
	struct pmhc_writer_view v;
	pmhc_writer_view(&p->w, &v);
	if (v.stall_since_ms == 0 || pmhc_mono_ms() - v.stall_since_ms < (int64_t)p->cfg->stall_exit_s * MS_PER_S)
		return false;
	pmhc_fatal("msg=\"stalled for limits.stall_exit; exiting with 75 (EX_TEMPFAIL) for a restart\" reason=\"%s\" "
		   "stall_exit_s=%d backlog_events=%zu hint=\"the unstored events' offsets stay uncommitted: "
		   "replayed once PostgreSQL takes the writes\"",
		   pmhc_q(v.stall_reason), p->cfg->stall_exit_s, v.events);
	p->exit_code = EX_TEMPFAIL;
	return true;
}

/* One pass of the loop; false once backfill has caught up. */
static bool step(struct pipeline *p)
{
	if (p->sig->reload) {
		p->sig->reload = 0;
		reload(p);
	}
	if (p->mode == PMHC_MODE_LIVE)
		pmhc_intake_units(p, UNITS_PER_STEP);
	if (p->holds != NULL)
		pmhc_holds_apply(p->holds, p->roster, UNITS_PER_STEP);
	rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, POLL_WAIT_MS);
	if (m != NULL) {
		pmhc_intake_message(p, m);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_poll(p->producer, 0);
	seal_when_due(p);
	reap(p);
	pace(p);
	trim_after_backlog(p);
	if (p->exit_code != EX_OK || pmhc_backfill_finished(p) || stalled_too_long(p))
		return false;
	log_stats_when_due(p);
	pmhc_observe_step(p);
	return true;
}

/* ---- close ---- */

/*
 * A clean stop within timeout_ms: the batch in flight stored, the writer
 * joined, the offsets committed. What is not stored by then keeps its offsets
 * uncommitted and is replayed on restart.
 */
static void stop(struct pipeline *p, int64_t timeout_ms)
{
	pmhc_notify_stopping();
	int64_t reserve = timeout_ms / 4 < STOP_RESERVE_MS ? timeout_ms / 4 : STOP_RESERVE_MS;
	p->stop_deadline_ms = pmhc_mono_ms() + timeout_ms;
	p->drain_deadline_ms = p->stop_deadline_ms - reserve;
	pmhc_observe_publish(p);
	pmhc_info("msg=\"stopping: finishing the batch in flight\"");
	bool clean = drain(p, timeout_ms);
	if (!clean)
		pmhc_warn("msg=\"PostgreSQL did not take the last batches in time; their offsets stay uncommitted "
			  "and they will be replayed on restart\"");
	if (!pmhc_writer_stop(&p->w, !clean, p->stop_deadline_ms))
		pmhc_warn("msg=\"the writer is still waiting on PostgreSQL; left to the exit, its batch uncommitted\"");
	rd_kafka_resp_err_t e = rd_kafka_commit(p->consumer, NULL, 0);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
		pmhc_warn("msg=\"final offset commit failed; the last inputs will be replayed\" error=\"%s\"",
			  rd_kafka_err2str(e));
	rd_kafka_consumer_close(p->consumer);
	log_stats(p, "stopped");
}

/* Everything opened, in the order that lets delivery reports still find their batches. */
static void close_all(struct pipeline *p)
{
	if (p->consumer != NULL)
		rd_kafka_destroy(p->consumer);
	if (p->units_reader != NULL) {
		rd_kafka_consumer_close(p->units_reader);
		rd_kafka_destroy(p->units_reader);
	}
	pmhc_holds_close(p->holds);
	pmhc_roster_free(p->roster);
	pmhc_revcache_free(p->revisions);
	pmhc_repeats_free(p->repeats);
	free(p->bf.at_end);
	pmhc_outbox_close(p);
	/* Batches never written keep their offsets uncommitted: replayed on restart. */
	pmhc_batch_free(p->current);
	pmhc_writer_destroy(&p->w);
	free(p->packbuf);
	pmhc_observe_close(p);
	pmhc_config_free(p->cfg);
	/* An orphaned writer thread still uses p->w, its lock and queues included: p goes with the process. */
	if (!p->w.orphaned)
		free(p);
}

int pmhc_pipeline_run(struct pmhc_config *cfg, struct pmhc_signals *sig, enum pmhc_mode mode)
{
	struct pipeline *p = calloc(1, sizeof *p);
	if (p == NULL) {
		pmhc_config_free(cfg);
		return EX_SOFTWARE;
	}
	p->cfg = cfg;
	p->sig = sig;
	p->mode = mode;
	pmhc_holds_instance_name(p->instance);
	int rc = EX_SOFTWARE;
	if (open_store(p, &rc) && open_memory(p, &rc) && open_observe(p, &rc) && open_kafka(p, &rc)) {
		p->started_ms = p->last_stats_ms = pmhc_mono_ms();
		while (!sig->stop && step(p))
			;
		/* A stall exit stores nothing more: whatever it would drain, PostgreSQL refuses. */
		stop(p, p->exit_code != EX_OK ? STOP_RESERVE_MS : shutdown_ms(p));
		rc = p->exit_code == EX_OK ? pmhc_backfill_final_pass(p) : p->exit_code;
	}
	close_all(p);
	return rc;
}
