#include "intake.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "backfill.h"
#include "caps.h"
#include "clock.h"
#include "kafka.h"
#include "log.h"
#include "outbox.h"
#include "pipeline_int.h"
#include "repeats.h"
#include "revcache.h"
#include "subject.h"
#include "units.h"
#include "wire.h"

/* A call's key on every topic, "psap_id/call_id": two identifiers, the slash and a NUL. */
#define CALL_KEY_LEN (2 * PMHC_ID_MAX + 2)

/*
 * Rebuilding the roster: each wait for cad.units' end offsets is bounded so that a
 * stop or postgres.start_timeout is noticed, and each poll is short so that the
 * position is checked again soon after a message.
 */
#define END_OFFSETS_WAIT_MS 5000
#define ROSTER_POLL_MS 100

/* What deciding one call produced: for the recommendation, the row and the log. */
struct decided {
	const Pmhc__V1__CallEvent *call;
	struct pmhc_decision d;
	struct pmhc_choice choice;
	int64_t now;
	char key[CALL_KEY_LEN];
	size_t klen;
};

/* When an input arrived: its Kafka timestamp, or now when the broker gave none. */
static int64_t arrival_ms(const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t type;
	int64_t ts = rd_kafka_message_timestamp(m, &type);
	return type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts > 0 ? ts : pmhc_wall_ms();
}

/* Copies a string into the batch arena; "" when out of memory (logged by caller's counts). */
static char *keep(struct pmhc_batch *b, const char *s)
{
	char *c = pmhc_arena_strdup(&b->arena, s);
	return c ? c : (char *)"";
}

/* ---- calls ---- */

/* The call as wire.c decoded (and repaired) it; NULL when rejected, and then sent to the DLQ. */
static Pmhc__V1__CallEvent *decode_call(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__CallEvent *call = pmhc_wire_call(m->payload, m->len, (size_t)p->cfg->max_message_bytes, arrival_ms(m),
						   &b->arena.pb, &rep);
	if (call == NULL) {
		pmhc_outbox_reject(p, b, m, rep.reason);
		return NULL;
	}
	if (rep.status != PMHC_WIRE_DEGRADED && pmhc_caps_call(call, rep.reason, sizeof rep.reason) > 0)
		rep.status = PMHC_WIRE_DEGRADED;
	else if (rep.status == PMHC_WIRE_DEGRADED)
		pmhc_caps_call(call, NULL, 0); /* the first repair already named */
	if (rep.status == PMHC_WIRE_DEGRADED) {
		p->st.degraded++;
		pmhc_warn("msg=\"input degraded but routed\" call=\"%s/%s\" partition=%d offset=%lld reason=\"%s\"",
			  pmhc_q(call->psap_id), pmhc_q(call->call_id), (int)m->partition, (long long)m->offset,
			  pmhc_q(rep.reason));
	}
	return call;
}

/* A replay or a stale duplicate: decided already, so nothing to publish or store. */
static bool already_decided(struct pipeline *p, const Pmhc__V1__CallEvent *call)
{
	if (!pmhc_revcache_stale(p->revisions, call->psap_id, call->call_id, call->revision))
		return false;
	p->st.stale++;
	p->st.stale_skipped++;
	pmhc_debug("msg=\"stale revision skipped\" call=\"%s/%s\" revision=%u", pmhc_q(call->psap_id),
		   pmhc_q(call->call_id), call->revision);
	return true;
}

/* Screens the call, walks the flowchart, chooses units (live only) and builds the recommendation in p->scratch. */
static void decide_call(struct pipeline *p, const Pmhc__V1__CallEvent *call, int64_t now, struct decided *x)
{
	const struct pmhc_config *cfg = p->cfg;
	x->call = call;
	x->now = now;
	pmhc_decide(cfg->rules, call, &x->d);
	x->choice = (struct pmhc_choice){ .n = 0, .fallback_used = false };
	if (p->mode == PMHC_MODE_LIVE)
		pmhc_units_choose(p->roster, &cfg->rules->units, call, x->d.rule->response, now, &x->choice);
	pmhc_recommend(cfg->rules, call, &x->d, &x->choice, now, &p->scratch);
	x->klen = (size_t)snprintf(x->key, sizeof x->key, "%s/%s", call->psap_id, call->call_id);
}

/* The database keeps every reason, whatever the sharing policy withholds from dispatch. */
static void keep_reasons(struct pmhc_batch *b, const struct decided *x, struct pmhc_call_row *row)
{
	const struct pmhc_screening *sc = &x->d.screening;
	row->reasons = pmhc_arena_alloc(&b->arena, (sc->n_reasons + 1) * sizeof(char *));
	if (row->reasons == NULL)
		return;
	for (size_t i = 0; i < sc->n_reasons; i++) {
		char text[PMHC_REASON_LEN];
		pmhc_reason_format(&sc->reasons[i], sc, x->call, text, sizeof text);
		row->reasons[row->n_reasons++] = keep(b, text);
	}
}

static void keep_units(struct pmhc_batch *b, const struct pmhc_rec_scratch *s, struct pmhc_call_row *row)
{
	row->unit_ids = pmhc_arena_alloc(&b->arena, (PMHC_NEEDS_MAX + 1) * sizeof(char *));
	if (row->unit_ids == NULL)
		return;
	for (size_t i = 0; i < s->rec.n_unit_ids; i++)
		row->unit_ids[row->n_unit_ids++] = keep(b, s->rec.unit_ids[i]);
}

/*
 * Whether the call is most likely not stored yet: its first revision, and this
 * process has decided no event of it (asked before note_decided() remembers
 * this one). A later revision has been written before; after a restart every
 * call still open would otherwise look new, and each batch of them would try a
 * COPY that fails. Unversioned calls (revision 0) give no such sign: merged.
 */
static bool first_meeting(const struct pipeline *p, const Pmhc__V1__CallEvent *call)
{
	return call->revision == 1 && !pmhc_revcache_known(p->revisions, call->psap_id, call->call_id);
}

/* The call's row, its strings copied into the batch; false when out of memory (logged). */
static bool batch_call(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m, const struct decided *x)
{
	const struct pmhc_config *cfg = p->cfg;
	struct pmhc_call_row row = {
		.call = x->call,
		.nature_mapped = keep(b, x->d.screening.nature_mapped),
		.flags = x->d.screening.flags,
		.mental_health_call = x->d.mental_health_call,
		.rule_id = keep(b, x->d.rule->id),
		.response = x->d.rule->response,
		.dispatch_code = keep(b, x->d.rule->dispatch_code),
		.rules_version = keep(b, cfg->rules->version),
		.decided_at_ms = x->now,
		.summary = keep(b, p->scratch.summary),
		.fallback_used = x->choice.fallback_used,
		.store_narrative = cfg->store_narrative,
		.backfilled = p->mode == PMHC_MODE_BACKFILL,
		.unseen = first_meeting(p, x->call),
		.partition = m->partition,
		.offset = m->offset,
	};
	keep_reasons(b, x, &row);
	keep_units(b, &p->scratch, &row);
	if (x->call->subject_key[0] != '\0')
		row.has_subject_hash = pmhc_subject_hash(cfg->subject_key, cfg->subject_key_len, x->call->subject_key,
							 row.subject_hash) == 0;
	if (x->call->call_taker_id != NULL && x->call->call_taker_id[0] != '\0')
		row.has_call_taker_hash = pmhc_subject_hash(cfg->subject_key, cfg->subject_key_len,
							    x->call->call_taker_id, row.call_taker_hash) == 0;
	row.nature_known = x->d.screening.nature_known;
	if (p->repeats != NULL && row.mental_health_call && row.has_subject_hash)
		row.repeat_guess =
			pmhc_repeats_guess(p->repeats, x->call->psap_id, row.subject_hash, x->call->received_at_ms);
	pmhc_answers_text(x->call, row.answers);
	if (!pmhc_batch_add_call(b, &row, m)) {
		/* Never stored, so its offset must not move: the batch is held back and replayed on restart. */
		b->undelivered++;
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		pmhc_error("msg=\"out of memory batching a call; holding its offset\" call=\"%s\"", pmhc_q(x->key));
		return false;
	}
	return true;
}

/* The call is decided: remembered, so a replay is not published again, and counted. */
static void note_decided(struct pipeline *p, const struct decided *x)
{
	const Pmhc__V1__CallEvent *call = x->call;
	pmhc_revcache_note(p->revisions, call->psap_id, call->call_id, call->revision);
	p->st.calls++;
	if (x->d.rule->response > 0 && x->d.rule->response < PMHC_METRICS_RESPONSES)
		p->st.by_response[x->d.rule->response]++;
	if (x->d.mental_health_call)
		p->st.mh++;
	if (x->choice.fallback_used)
		p->st.fallbacks++;
	if (x->d.screening.nature_mapped[0] != '\0' && !x->d.screening.nature_known)
		p->st.unknown_nature++;
	pmhc_debug("msg=\"decided\" call=\"%s\" revision=%u rule=%s response=%s units=%zu fallback=%s", pmhc_q(x->key),
		   call->revision, x->d.rule->id, pmhc_response_name(x->d.rule->response), p->scratch.rec.n_unit_ids,
		   x->choice.fallback_used ? "yes" : "no");
}

/* intake → wire → decide → recommend → outbox, and the row into the batch. */
static void handle_call(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m)
{
	int64_t now = pmhc_wall_ms();
	Pmhc__V1__CallEvent *call = decode_call(p, b, m);
	if (call == NULL || already_decided(p, call))
		return;
	struct decided x;
	decide_call(p, call, now, &x);
	if (p->mode == PMHC_MODE_LIVE)
		pmhc_outbox_publish(p, b, m, &p->scratch, x.key, x.klen);
	if (batch_call(p, b, m, &x))
		note_decided(p, &x);
}

/* ---- dispositions ---- */

static void handle_disposition(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m)
{
	struct pmhc_wire_report rep;
	Pmhc__V1__Disposition *d = (Pmhc__V1__Disposition *)pmhc_wire_decode(
		&pmhc__v1__disposition__descriptor, m->payload, m->len, (size_t)p->cfg->max_message_bytes,
		arrival_ms(m), &b->arena.pb, &rep);
	if (d == NULL) {
		pmhc_outbox_reject(p, b, m, rep.reason);
		return;
	}
	if (rep.status != PMHC_WIRE_DEGRADED && pmhc_caps_disposition(d, rep.reason, sizeof rep.reason) > 0)
		rep.status = PMHC_WIRE_DEGRADED;
	else if (rep.status == PMHC_WIRE_DEGRADED)
		pmhc_caps_disposition(d, NULL, 0);
	if (rep.status == PMHC_WIRE_DEGRADED) {
		p->st.degraded++;
		pmhc_warn("msg=\"disposition degraded but stored\" call=\"%s/%s\" reason=\"%s\"", pmhc_q(d->psap_id),
			  pmhc_q(d->call_id), pmhc_q(rep.reason));
	}
	/* The call is closed: its units are no longer spoken for. */
	pmhc_roster_release_call(p->roster, d->psap_id, d->call_id);
	struct pmhc_disposition_row row = { d, p->mode == PMHC_MODE_BACKFILL, m->partition, m->offset };
	if (!pmhc_batch_add_disposition(b, &row, m)) {
		b->undelivered++;           /* held back, as a call is */
		p->exit_code = EX_TEMPFAIL; /* nothing reaps the batch now: a restart replays it */
		pmhc_error("msg=\"out of memory batching a disposition; holding its offset\" call=\"%s/%s\"",
			   pmhc_q(d->psap_id), pmhc_q(d->call_id));
		return;
	}
	p->st.dispositions++;
}

/* ---- the group's messages ---- */

/* History carries calls and dispositions on one topic, told apart by a header. */
static void handle_history(struct pipeline *p, struct pmhc_batch *b, const rd_kafka_message_t *m)
{
	static const char call[] = "call", disposition[] = "disposition";
	rd_kafka_headers_t *h = NULL;
	const void *val = NULL;
	size_t len = 0;
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_header_get_last(h, "pmhc-type", &val, &len);
	if (val != NULL && len == strlen(call) && memcmp(val, call, len) == 0)
		handle_call(p, b, m);
	else if (val != NULL && len == strlen(disposition) && memcmp(val, disposition, len) == 0)
		handle_disposition(p, b, m);
	else
		pmhc_outbox_reject(p, b, m, "history message without a pmhc-type header of call or disposition");
}

/* An error the consumer reports: a refused ACL names the group or topic and what to grant. */
static void consumer_error(struct pipeline *p, const rd_kafka_message_t *m)
{
	char acl[sizeof p->group + 32];
	snprintf(acl, sizeof acl, "Read on group %s", p->group);
	if (!pmhc_kafka_refused(p->consumer, m, "consumer", acl, true, &p->consumer_refused))
		pmhc_error("msg=\"consumer error\" topic=%s error=\"%s\"", m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
			   pmhc_q(rd_kafka_message_errstr(m)));
}

void pmhc_intake_message(struct pipeline *p, const rd_kafka_message_t *m)
{
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			pmhc_backfill_mark_end(p, m->partition, true);
			return;
		}
		consumer_error(p, m);
		return;
	}
	struct pmhc_batch *b = pmhc_pipeline_batch(p);
	if (b == NULL) {
		/*
		 * Dropped here, it would be committed with the next input's offset: lost.
		 * Nothing more is read; the stop commits only what came before it.
		 */
		pmhc_fatal("msg=\"out of memory with an input in hand; exiting with 75 (EX_TEMPFAIL) for a restart\" "
			   "topic=%s partition=%d offset=%lld hint=\"the input stays uncommitted and is replayed\"",
			   rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
		p->exit_code = EX_TEMPFAIL;
		return;
	}
	if (p->mode == PMHC_MODE_BACKFILL)
		handle_history(p, b, m);
	else if (strcmp(rd_kafka_topic_name(m->rkt), p->cfg->topic_dispositions) == 0)
		handle_disposition(p, b, m);
	else
		handle_call(p, b, m);
	b->n_messages++;
	pmhc_backfill_mark_end(p, m->partition, false);
	if (pmhc_batch_mark(b, m) != 0)
		pmhc_error("msg=\"out of memory tracking offsets\"");
}

/* ---- unit statuses ---- */

/*
 * One unit status into the roster. Every instance reads every status, so a bad
 * one is logged and counted here, not sent to the DLQ once per instance.
 */
static void apply_unit(struct pipeline *p, const rd_kafka_message_t *m)
{
	if (m->err) {
		char acl[PMHC_KAFKA_GROUP_LEN + 64];
		pmhc_kafka_reader_acl(p->cfg, acl, sizeof acl);
		if (!pmhc_kafka_refused(p->units_reader, m, "units reader", acl, false, &p->units_refused))
			pmhc_error("msg=\"units reader error\" error=\"%s\"", pmhc_q(rd_kafka_message_errstr(m)));
		return;
	}
	struct pmhc_batch *b = pmhc_pipeline_batch(p);
	if (b == NULL)
		return;
	struct pmhc_wire_report rep;
	Pmhc__V1__UnitStatus *st = (Pmhc__V1__UnitStatus *)pmhc_wire_decode(
		&pmhc__v1__unit_status__descriptor, m->payload, m->len, (size_t)p->cfg->max_message_bytes,
		arrival_ms(m), &b->arena.pb, &rep);
	if (st == NULL) {
		p->st.units_rejected++;
		pmhc_warn("msg=\"unit status ignored\" partition=%d offset=%lld reason=\"%s\"", (int)m->partition,
			  (long long)m->offset, pmhc_q(rep.reason));
		return;
	}
	if (rep.status == PMHC_WIRE_DEGRADED)
		pmhc_warn("msg=\"unit status degraded but used\" unit=\"%s/%s\" reason=\"%s\"", pmhc_q(st->psap_id),
			  pmhc_q(st->unit_id), pmhc_q(rep.reason));
	int rc = pmhc_roster_apply(p->roster, st);
	if (rc < 0)
		pmhc_error("msg=\"out of memory applying a unit status\" unit=\"%s/%s\"", pmhc_q(st->psap_id),
			   pmhc_q(st->unit_id));
	p->st.unit_statuses++;
	if (rc == 0)
		p->st.units_out_of_order++;
	if (!pmhc_batch_add_unit(b, &(struct pmhc_unit_row){ st })) {
		pmhc_error("msg=\"out of memory batching a unit status\" unit=\"%s/%s\"", pmhc_q(st->psap_id),
			   pmhc_q(st->unit_id));
		return;
	}
	if (pmhc_batch_size(b) >= pmhc_backfill_batch_events(p))
		pmhc_pipeline_seal(p);
}

/* One status from the units reader, waiting up to timeout_ms; false when none came. */
static bool poll_unit(struct pipeline *p, int timeout_ms)
{
	rd_kafka_message_t *m = rd_kafka_consumer_poll(p->units_reader, timeout_ms);
	if (m == NULL)
		return false;
	apply_unit(p, m);
	rd_kafka_message_destroy(m);
	return true;
}

void pmhc_intake_units(struct pipeline *p, int max)
{
	for (int i = 0; i < max && poll_unit(p, 0); i++)
		;
}

/* The end offsets of cad.units, waited for until postgres.start_timeout; NULL when never (logged). */
static rd_kafka_topic_partition_list_t *units_end(struct pipeline *p)
{
	char err[PMHC_ERR_LEN];
	int64_t limit = pmhc_mono_ms() + (int64_t)p->cfg->pg_start_timeout_s * MS_PER_S;
	rd_kafka_topic_partition_list_t *end = NULL;
	while (end == NULL) {
		end = pmhc_kafka_end_offsets(p->units_reader, END_OFFSETS_WAIT_MS, err, sizeof err);
		if (end == NULL && (pmhc_mono_ms() >= limit || p->sig->stop)) {
			pmhc_error("msg=\"Kafka unreachable: cannot read %s\" error=\"%s\"", p->cfg->topic_units, err);
			return NULL;
		}
	}
	return end;
}

/* Whether the units reader is short of end in any partition. */
static bool units_behind(struct pipeline *p, const rd_kafka_topic_partition_list_t *end)
{
	bool behind = false;
	for (int i = 0; i < end->cnt && !behind; i++) {
		rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(pos, end->elems[i].topic, end->elems[i].partition);
		rd_kafka_position(p->units_reader, pos);
		int64_t at = pos->elems[0].offset;
		rd_kafka_topic_partition_list_destroy(pos);
		behind = end->elems[i].offset > 0 && (at < 0 || at < end->elems[i].offset);
	}
	return behind;
}

int pmhc_intake_rebuild_roster(struct pipeline *p)
{
	int64_t t0 = pmhc_mono_ms();
	rd_kafka_topic_partition_list_t *end = units_end(p);
	if (end == NULL)
		return -1;
	while (units_behind(p, end) && !p->sig->stop)
		poll_unit(p, ROSTER_POLL_MS);
	rd_kafka_topic_partition_list_destroy(end);
	pmhc_info("msg=\"unit roster rebuilt from %s\" units=%zu statuses=%lu took_ms=%lld", p->cfg->topic_units,
		  pmhc_roster_size(p->roster), p->st.unit_statuses, (long long)(pmhc_mono_ms() - t0));
	return 0;
}
